//! XLSForm import from the bytes of a spreadsheet (.xlsx/.xls/.ods). Two
//! ways in: the raw bytes (the spreadsheet reader), and, so that mutations
//! reach the mapping rules rather than stop at the ZIP layer, the input as
//! text made into a workbook: lines are rows, tabs separate cells, a line
//! `---` starts the next sheet (survey, choices, settings). Any input must
//! give a definition or an error, never a panic.
//!
//! A panic inside the third-party spreadsheet reader is caught by
//! `from_bytes` and answered as an unreadable file (by design: calamine has
//! panicked on malformed files before). libFuzzer's panic hook would abort on
//! it all the same, so the hook is wrapped to let exactly those panics
//! unwind to the catch; a panic anywhere else still aborts and is a crash.
#![no_main]

use hailong::domain::xlsform;
use libfuzzer_sys::fuzz_target;

fn workbook(text: &str) -> Option<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, sheet) in ["survey", "choices", "settings"]
        .iter()
        .zip(text.split("\n---\n"))
    {
        let ws = wb.add_worksheet().set_name(*name).ok()?;
        for (r, line) in sheet.lines().take(200).enumerate() {
            for (c, cell) in line.split('\t').take(30).enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let (r, c) = (u32::try_from(r).ok()?, u16::try_from(c).ok()?);
                match cell.strip_prefix('#').map(str::parse::<f64>) {
                    Some(Ok(n)) => ws.write_number(r, c, n).ok()?,
                    _ => ws.write_string(r, c, cell).ok()?,
                };
            }
        }
    }
    wb.save_to_buffer().ok()
}

static HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !xlsform::reading_spreadsheet() {
                fuzzer_hook(info);
            }
        }));
    });
    let _ = xlsform::from_bytes(data, "fuzz");
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(bytes) = workbook(text)
    {
        let _ = xlsform::from_bytes(&bytes, "fuzz");
    }
});
