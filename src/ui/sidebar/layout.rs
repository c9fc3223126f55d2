//! Where the roster's rows are, so that only the ones in view need to be on the page (virtualization).
//!
//! The roster is drawn in fixed heights, set in CSS (`--roster-group`, `--roster-heading`, `--roster-row` in
//! `style/main.css`): every group takes one block for its heading (with the gap above it), then one row per
//! contact while it is open. A row's offset is therefore counts times heights, and nothing needs measuring per
//! row. These functions work on the grouped roster and heights in pixels from the top of the list; no DOM.

use std::ops::Range;

use crate::ui::model::RosterGroup;
use crate::xmpp::jid::BareJid;

/// The fixed heights, in CSS pixels (read from the stylesheet; these defaults match it at a 16 px root font).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// A group's heading block: the gap above it and the heading itself.
    pub group: f64,
    /// The heading alone (it sticks to the top while its group scrolls under it).
    pub heading: f64,
    /// One contact row.
    pub row: f64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics { group: 36.6, heading: 32.6, row: 55.0 }
    }
}

/// The part of one group that is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSlice {
    pub name: String,
    /// Index of the group among all groups (0-based).
    pub index: usize,
    /// The rows rendered (indices into the group's contacts); empty when only the heading is in view.
    pub rows: Range<usize>,
}

/// What to render of the roster for one scroll position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterWindow {
    /// The groups in (or near) view, in order, each with its rendered rows.
    pub groups: Vec<GroupSlice>,
    /// Whole groups above the first rendered one: how many, and how many open rows they hold (the space the list
    /// leaves empty above it).
    pub groups_before: usize,
    pub rows_before: usize,
    /// Every group and every open row: the list's full height.
    pub total_groups: usize,
    pub total_rows: usize,
}

/// Rows a group shows: all its contacts when open, none when collapsed.
fn shown(group: &RosterGroup, is_open: &impl Fn(&str) -> bool) -> usize {
    if is_open(&group.name) { group.jids.len() } else { 0 }
}

/// A group's height in pixels: its heading block and its open rows.
fn group_height(group: &RosterGroup, is_open: &impl Fn(&str) -> bool, m: Metrics) -> f64 {
    m.group + shown(group, is_open) as f64 * m.row
}

/// The list's full height in pixels.
pub fn total_height(groups: &[RosterGroup], is_open: impl Fn(&str) -> bool, m: Metrics) -> f64 {
    groups.iter().map(|g| group_height(g, &is_open, m)).sum()
}

/// The groups and rows that intersect `from..to` (pixels from the top of the list; pass the visible part
/// widened by some overscan). A range past the end (the list just got shorter) is moved back to the end.
pub fn window(groups: &[RosterGroup], is_open: impl Fn(&str) -> bool, m: Metrics, from: f64, to: f64) -> RosterWindow {
    let total = total_height(groups, &is_open, m);
    let span = (to - from).max(0.0);
    let from = from.min(total - span).max(0.0);
    let to = from + span;
    let mut w = RosterWindow { total_groups: groups.len(), ..RosterWindow::default() };
    let mut y = 0.0;
    for (index, g) in groups.iter().enumerate() {
        let n = shown(g, &is_open);
        let height = m.group + n as f64 * m.row;
        w.total_rows += n;
        if y + height <= from {
            w.groups_before += 1;
            w.rows_before += n;
        } else if y < to {
            let rows_top = y + m.group;
            let row_at = |px: f64, round: fn(f64) -> f64| (round((px - rows_top) / m.row).max(0.0) as usize).min(n);
            let start = row_at(from, f64::floor);
            let end = row_at(to, f64::ceil).max(start);
            w.groups.push(GroupSlice { name: g.name.clone(), index, rows: start..end });
        }
        y += height;
    }
    w
}

/// The top of row `row` of group `group`, in pixels from the top of the list.
pub fn row_top(groups: &[RosterGroup], is_open: impl Fn(&str) -> bool, m: Metrics, group: usize, row: usize) -> f64 {
    total_height(&groups[..group.min(groups.len())], is_open, m) + m.group + row as f64 * m.row
}

/// The first row whose top is at or below `y` (pixels from the top of the list): `(group, row)`.
pub fn first_row_below(
    groups: &[RosterGroup],
    is_open: impl Fn(&str) -> bool,
    m: Metrics,
    y: f64,
) -> Option<(usize, usize)> {
    let mut top = 0.0;
    for (index, g) in groups.iter().enumerate() {
        let n = shown(g, &is_open);
        let rows_top = top + m.group;
        let k = ((y - rows_top) / m.row).ceil().max(0.0) as usize;
        if k < n {
            return Some((index, k));
        }
        top = rows_top + n as f64 * m.row;
    }
    None
}

/// A move through the list with the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Next,
    Previous,
    First,
    Last,
}

/// Where `step` leads from the row of `jid` in group `group` (or from nowhere): `(group, row)` of the
/// contact to focus, across groups and skipping collapsed ones. `None` when no row is open.
pub fn step(
    groups: &[RosterGroup],
    is_open: impl Fn(&str) -> bool,
    from: Option<(usize, &BareJid)>,
    step: Step,
) -> Option<(usize, usize)> {
    let counts: Vec<usize> = groups.iter().map(|g| shown(g, &is_open)).collect();
    let total: usize = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let current = from.and_then(|(gi, jid)| {
        let k = groups.get(gi)?.jids.iter().position(|j| j == jid).filter(|k| *k < counts[gi])?;
        Some(counts[..gi].iter().sum::<usize>() + k)
    });
    let flat = match (step, current) {
        (Step::First, _) | (Step::Next | Step::Previous, None) => 0,
        (Step::Last, _) => total - 1,
        (Step::Next, Some(i)) => (i + 1).min(total - 1),
        (Step::Previous, Some(i)) => i.saturating_sub(1),
    };
    let mut rest = flat;
    for (gi, n) in counts.iter().enumerate() {
        if rest < *n {
            return Some((gi, rest));
        }
        rest -= n;
    }
    None
}
