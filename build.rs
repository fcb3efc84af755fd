//! Embeds `templates/` into the binary so one file deploys.
fn main() {
    minijinja_embed::embed_templates!("templates", &[".html", ".txt", ".svg", ".j2"][..]);
    println!("cargo:rerun-if-changed=locales");
}
