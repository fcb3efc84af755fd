//! The audit log page.

use serde::Serialize;

/// A row of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditRow {
    pub at: String,
    pub staff: String,
    pub action: String,
    pub object: String,
    pub detail: String,
}

/// One page of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditRow>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}
