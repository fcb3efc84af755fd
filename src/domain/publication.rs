//! Published results: which waiting responses a publication may include, and when a
//! campaign's schedule says to publish. Pure: no clock, no database.
//!
//! # The k rule
//!
//! Between two publications, every published number (an estimate, its `n`, a conditional
//! criterion, a parent computed from its children) may move only by 0 or at least `k`
//! people, `k = max(campaign min_n, server floor)`. The waiting responses are grouped by the
//! locality they hold (a commune, or the campaign locality at or below it); in each group
//! the included subset is the fixed point of: start with every waiting row; while some item
//! (or the "any response" pseudo-item) is answered by more than 0 and fewer than `k` rows of
//! the subset, drop every row answering it. A parent's new answerers of an item are the sum
//! of its groups' (each 0 or ≥ k), so parents hold the rule too. The rest waits for a later
//! publication.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The lowest `k` a server accepts, whatever a campaign says.
pub const MIN_N_FLOOR: u32 = 10;

/// The publication's `k`: the campaign's `min_n`, never below the server's floor.
pub fn k_for(min_n: u32, floor: u32) -> usize {
    min_n.max(floor).max(MIN_N_FLOOR) as usize
}

/// Which rows of one locality group a publication includes (see the module docs).
/// `rows[i]` lists the items row `i` answers (every row also answers "any response").
/// The result is independent of the rows' order.
pub fn select<R: AsRef<[u32]>>(rows: &[R], k: usize) -> Vec<bool> {
    let mut included = vec![true; rows.len()];
    loop {
        let kept = included.iter().filter(|i| **i).count();
        if kept == 0 {
            return included;
        }
        if kept < k {
            return vec![false; rows.len()];
        }
        let mut counts: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
        for (row, items) in rows.iter().enumerate() {
            if included[row] {
                for item in dedup(items.as_ref()) {
                    *counts.entry(item).or_default() += 1;
                }
            }
        }
        let bad: std::collections::HashSet<u32> = counts
            .into_iter()
            .filter(|(_, c)| *c > 0 && *c < k)
            .map(|(i, _)| i)
            .collect();
        if bad.is_empty() {
            return included;
        }
        for (row, items) in rows.iter().enumerate() {
            if included[row] && items.as_ref().iter().any(|i| bad.contains(i)) {
                included[row] = false;
            }
        }
    }
}

fn dedup(items: &[u32]) -> Vec<u32> {
    let mut v = items.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// When a campaign's results are published automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Every day at 00:00 Asia/Ho_Chi_Minh.
    #[default]
    Daily,
    /// Only by the button or the command.
    Manual,
    /// Once, after the campaign's last day.
    OnClose,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Daily => "daily",
            Schedule::Manual => "manual",
            Schedule::OnClose => "on_close",
        }
    }

    pub fn parse(s: &str) -> Option<Schedule> {
        match s {
            "daily" => Some(Schedule::Daily),
            "manual" => Some(Schedule::Manual),
            "on_close" => Some(Schedule::OnClose),
            _ => None,
        }
    }
}

/// What made a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Manual,
    Close,
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::Close => "close",
            Trigger::Cli => "cli",
        }
    }
}

/// Today's date in Asia/Ho_Chi_Minh (UTC+7, no daylight saving time).
pub fn vietnam_date(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(7)).date_naive()
}

/// Asia/Ho_Chi_Minh: UTC+7 all year (Vietnam has no daylight saving time).
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time: the build fails rather than this.
    None => panic!("UTC+7 is a valid offset"),
};

/// A moment as a clock in Vietnam shows it, for the few times shown to people (a staff
/// member's own requests; never next to results, whose only time is a date).
pub fn vietnam_time(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&VIETNAM)
}

/// A date as Vietnamese readers write it: `05/12/2026`.
pub fn vietnam_date_text(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Whether the schedule asks for a publication now, given the date of the campaign's latest
/// publication (`None`: none yet) and its last day. Daily: once per Vietnamese day, from
/// 00:00 there. On close: once, on a day after the last day. Manual: never.
pub fn due(
    schedule: Schedule,
    now: DateTime<Utc>,
    closes_on: NaiveDate,
    latest: Option<NaiveDate>,
) -> Option<Trigger> {
    let today = vietnam_date(now);
    match schedule {
        Schedule::Manual => None,
        Schedule::Daily => latest
            .is_none_or(|d| d < today)
            .then_some(Trigger::Schedule),
        Schedule::OnClose => {
            (today > closes_on && latest.is_none_or(|d| d <= closes_on)).then_some(Trigger::Close)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn times_shown_to_people_are_vietnam_clock_times() {
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 17, 30, 0).single();
        let shown = t.map(|t| vietnam_time(t).format("%d/%m/%Y %H:%M").to_string());
        assert_eq!(shown.as_deref(), Some("04/12/2026 00:30"));
        let d = NaiveDate::from_ymd_opt(2026, 12, 5);
        assert_eq!(d.map(vietnam_date_text).as_deref(), Some("05/12/2026"));
    }

    fn counts(rows: &[Vec<u32>], mask: &[bool]) -> std::collections::HashMap<u32, usize> {
        let mut c = std::collections::HashMap::new();
        for (r, items) in rows.iter().enumerate() {
            if mask[r] {
                for i in dedup(items) {
                    *c.entry(i).or_insert(0) += 1;
                }
            }
        }
        c
    }

    proptest! {
        #[test]
        fn every_item_moves_by_zero_or_at_least_k(
            rows in prop::collection::vec(prop::collection::vec(0u32..6, 0..5), 0..60),
            k in 1usize..15,
        ) {
            let mask = select(&rows, k);
            let kept = mask.iter().filter(|m| **m).count();
            prop_assert!(kept == 0 || kept >= k);
            for (_, c) in counts(&rows, &mask) {
                prop_assert!(c >= k, "an item answered by {} < {} rows", c, k);
            }
        }

        #[test]
        fn the_choice_does_not_depend_on_row_order(
            rows in prop::collection::vec(prop::collection::vec(0u32..6, 0..5), 0..40),
            k in 1usize..12,
            rot in 0usize..40,
        ) {
            let mask = select(&rows, k);
            let r = if rows.is_empty() { 0 } else { rot % rows.len() };
            let mut turned = rows.clone();
            turned.rotate_left(r);
            let mut expected = mask.clone();
            expected.rotate_left(r);
            prop_assert_eq!(select(&turned, k), expected);
        }
    }

    #[test]
    fn a_rare_item_waits_and_the_rest_is_included() {
        let mut rows = vec![vec![1u32]; 12];
        rows.push(vec![1, 2]);
        let mask = select(&rows, 10);
        assert_eq!(mask.iter().filter(|m| **m).count(), 12);
        assert!(!mask[12]);
        // Fewer than k in the group: all wait.
        assert!(select(&rows[..9], 10).iter().all(|m| !m));
    }

    #[test]
    fn the_schedule_is_due_once_per_vietnamese_day() {
        let closes = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        // 16:59 UTC on 3 Dec = 23:59 on 3 Dec in Hanoi; 17:00 UTC = 00:00 on 4 Dec.
        let before = Utc.with_ymd_and_hms(2026, 12, 3, 16, 59, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap();
        let dec3 = NaiveDate::from_ymd_opt(2026, 12, 3);
        assert_eq!(due(Schedule::Daily, before, closes, dec3), None);
        assert_eq!(
            due(Schedule::Daily, after, closes, dec3),
            Some(Trigger::Schedule)
        );
        assert_eq!(
            due(Schedule::Daily, after, closes, None),
            Some(Trigger::Schedule)
        );
        assert_eq!(due(Schedule::Manual, after, closes, None), None);
    }

    #[test]
    fn on_close_publishes_once_after_the_last_day() {
        let closes = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default();
        let last_day = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let next_day = Utc.with_ymd_and_hms(2026, 12, 3, 17, 30, 0).unwrap();
        assert_eq!(due(Schedule::OnClose, last_day, closes, None), None);
        assert_eq!(
            due(Schedule::OnClose, next_day, closes, None),
            Some(Trigger::Close)
        );
        let dec4 = NaiveDate::from_ymd_opt(2026, 12, 4);
        assert_eq!(due(Schedule::OnClose, next_day, closes, dec4), None);
    }
}
