//! The sample planner's page.

use serde::Serialize;

/// A stratum of the plan.
#[derive(Debug, Serialize)]
pub struct PlanRow {
    pub code: String,
    pub name: String,
    pub population: String,
    pub required: Option<u64>,
    pub allocated: Option<u64>,
    pub moe: Option<String>,
    pub clusters: Option<u64>,
}

/// The planner; `F` is the form as typed (echoed back on errors), which the
/// handler owns.
#[derive(Debug, Serialize)]
pub struct PlanPage<F: Serialize> {
    pub form: F,
    pub levels: Vec<&'static str>,
    pub allocations: Vec<&'static str>,
    pub rows: Vec<PlanRow>,
    pub total_required: Option<u64>,
    pub total_allocated: Option<u64>,
    pub total_clusters: Option<u64>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
}
