//! process_table: a sortable, filterable process table that stays smooth with thousands of rows:
//! the filtered and sorted order is cached until the rows or the choice change, and only the
//! visible rows are laid out.

use crate::app::commands::UiCommand;
use crate::app::persist::View;
use crate::model::HostId;
use eframe::egui;
use egui_extras::{Column as TableColumn, TableBuilder};
use std::collections::HashMap;
use vigia_shared::Pid;
use vigia_shared::proto::ProcessInfo;

/// One row: a process and the host it runs on.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub host: HostId,
    pub host_name: &'a str,
    pub info: &'a ProcessInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Host,
    Pid,
    User,
    Cpu,
    Mem,
    Name,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Host => "Host",
            Column::Pid => "PID",
            Column::User => "User",
            Column::Cpu => "CPU %",
            Column::Mem => "Memory",
            Column::Name => "Name",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    generation: u64,
    len: usize,
    filter: String,
    sort: Column,
    desc: bool,
}

/// The table's choices and cache.
#[derive(Debug)]
pub struct ProcessTable {
    pub filter: String,
    pub sort: Column,
    pub desc: bool,
    key: Option<CacheKey>,
    order: Vec<usize>,
    /// The rows shown, in order, as (host, pid): kept while the pointer is over the table so
    /// that rows do not move under it when new data arrives.
    shown: Vec<(HostId, Pid)>,
    /// The pointer was over the table in the last frame.
    hovered: bool,
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self {
            filter: String::new(),
            sort: Column::Cpu,
            desc: true,
            key: None,
            order: Vec::new(),
            shown: Vec::new(),
            hovered: false,
        }
    }
}

/// Whether a row matches the filter: its name or user contains the text (any case), or its
/// pid is the number typed.
pub fn matches(row: &Row<'_>, filter: &str) -> bool {
    let f = filter.trim();
    if f.is_empty() {
        return true;
    }
    if let Ok(pid) = f.parse::<u32>()
        && row.info.pid.0 == pid
    {
        return true;
    }
    let f = f.to_lowercase();
    row.info.name.to_lowercase().contains(&f)
        || row.info.user.to_lowercase().contains(&f)
        || row.host_name.to_lowercase().contains(&f)
}

/// Indices of the rows that match `filter`, in the order of `sort`.
pub fn order(rows: &[Row<'_>], filter: &str, sort: Column, desc: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len())
        .filter(|&i| matches(&rows[i], filter))
        .collect();
    idx.sort_by(|&a, &b| {
        let (a, b) = (&rows[a], &rows[b]);
        let ord = match sort {
            Column::Host => a.host_name.cmp(b.host_name),
            Column::Pid => a.info.pid.cmp(&b.info.pid),
            Column::User => a.info.user.cmp(&b.info.user),
            Column::Cpu => a.info.cpu.total_cmp(&b.info.cpu),
            Column::Mem => a.info.mem.cmp(&b.info.mem),
            Column::Name => a.info.name.to_lowercase().cmp(&b.info.name.to_lowercase()),
        };
        let ord = ord.then(a.info.pid.cmp(&b.info.pid));
        if desc { ord.reverse() } else { ord }
    });
    idx
}

/// The rows that are still there in the order they were shown, then the new ones in `sorted`
/// order: nothing moves, new rows come at the end.
fn keep_order(rows: &[Row<'_>], shown: &[(HostId, Pid)], sorted: &[usize]) -> Vec<usize> {
    let visible: HashMap<(HostId, Pid), usize> = sorted
        .iter()
        .map(|&i| ((rows[i].host, rows[i].info.pid), i))
        .collect();
    let mut out: Vec<usize> = shown
        .iter()
        .filter_map(|k| visible.get(k).copied())
        .collect();
    let kept: std::collections::HashSet<usize> = out.iter().copied().collect();
    out.extend(sorted.iter().copied().filter(|i| !kept.contains(i)));
    out
}

impl ProcessTable {
    /// The filter box, labelled `label` (e.g. "Filter").
    pub fn filter_box(&mut self, ui: &mut egui::Ui, label: &str, hint: &str) {
        ui.horizontal(|ui| {
            let l = ui.label(label);
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text(hint)
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
            if !self.filter.is_empty() && ui.small_button("Clear").clicked() {
                self.filter.clear();
            }
        });
    }

    /// Draws the table; `generation` changes whenever `rows` do.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        rows: &[Row<'_>],
        generation: u64,
        show_host: bool,
        origin: View,
        out: &mut Vec<UiCommand>,
    ) {
        let key = CacheKey {
            generation,
            len: rows.len(),
            filter: self.filter.clone(),
            sort: self.sort,
            desc: self.desc,
        };
        if self.key.as_ref() != Some(&key) {
            let only_data_changed = self.key.as_ref().is_some_and(|k| {
                k.filter == key.filter && k.sort == key.sort && k.desc == key.desc
            });
            let sorted = order(rows, &self.filter, self.sort, self.desc);
            self.order = if only_data_changed && self.hovered {
                keep_order(rows, &self.shown, &sorted)
            } else {
                sorted
            };
            self.shown = self
                .order
                .iter()
                .map(|&i| (rows[i].host, rows[i].info.pid))
                .collect();
            self.key = Some(key);
        }
        ui.horizontal(|ui| {
            ui.weak(format!("{} of {} processes", self.order.len(), rows.len()));
            if self.hovered {
                ui.weak("· order kept while the pointer is over the table");
            }
        });

        let mut columns = Vec::with_capacity(6);
        if show_host {
            columns.push(Column::Host);
        }
        columns.extend([
            Column::Pid,
            Column::User,
            Column::Cpu,
            Column::Mem,
            Column::Name,
        ]);
        let top = ui.cursor().top();
        let mut table = TableBuilder::new(ui)
            .id_salt(("procs", show_host))
            .striped(true)
            .resizable(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .auto_shrink([false, false]);
        for c in &columns {
            table = table.column(match c {
                Column::Name => TableColumn::initial(220.0).at_least(80.0).clip(true),
                Column::Host | Column::User => TableColumn::initial(110.0).clip(true),
                _ => TableColumn::initial(80.0),
            });
        }
        table = table.column(TableColumn::remainder().at_least(140.0));

        let mut clicked_sort = None;
        let order = &self.order;
        table
            .header(24.0, |mut header| {
                for &c in &columns {
                    header.col(|ui| {
                        let text = if self.sort == c {
                            let arrow = if self.desc { "v" } else { "^" };
                            format!("{} {arrow}", c.title())
                        } else {
                            c.title().to_owned()
                        };
                        if ui
                            .selectable_label(self.sort == c, text)
                            .on_hover_text("Sort by this column")
                            .clicked()
                        {
                            clicked_sort = Some(c);
                        }
                    });
                }
                header.col(|ui| {
                    ui.strong("Actions");
                });
            })
            .body(|body| {
                body.rows(22.0, order.len(), |mut row| {
                    let Some(r) = order.get(row.index()).and_then(|&i| rows.get(i)) else {
                        return;
                    };
                    for &c in &columns {
                        row.col(|ui| {
                            match c {
                                Column::Host => ui.label(r.host_name),
                                Column::Pid => ui.label(r.info.pid.to_string()),
                                Column::User => ui.label(&r.info.user),
                                Column::Cpu => ui.label(format!("{:.1}", r.info.cpu)),
                                Column::Mem => ui.label(super::format::bytes(r.info.mem)),
                                Column::Name => ui.label(&r.info.name),
                            };
                        });
                    }
                    row.col(|ui| {
                        if ui.small_button("Stop…").clicked() {
                            out.push(UiCommand::ConfirmStop {
                                host: r.host,
                                pid: r.info.pid,
                                name: r.info.name.clone(),
                                origin,
                            });
                        }
                        if ui.small_button("Details").clicked() {
                            out.push(UiCommand::ShowDetail(r.host, r.info.pid));
                        }
                    });
                });
            });
        let area = egui::Rect::from_min_max(
            egui::pos2(ui.min_rect().left(), top),
            ui.min_rect().right_bottom(),
        );
        self.hovered = ui.rect_contains_pointer(area);
        if let Some(c) = clicked_sort {
            if self.sort == c {
                self.desc = !self.desc;
            } else {
                self.sort = c;
                self.desc = matches!(c, Column::Cpu | Column::Mem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigia_shared::Pid;

    fn p(pid: u32, user: &str, cpu: f32, mem: u64, name: &str) -> ProcessInfo {
        ProcessInfo {
            pid: Pid(pid),
            user: user.into(),
            cpu,
            mem,
            name: name.into(),
        }
    }

    #[test]
    fn filter_matches_name_user_host_or_exact_pid_and_sorts() {
        let procs = [
            p(10, "root", 5.0, 100, "sshd"),
            p(22, "alice", 50.0, 300, "Postgres"),
            p(31, "bob", 1.0, 200, "bash"),
        ];
        let rows: Vec<Row<'_>> = procs
            .iter()
            .map(|info| Row {
                host: HostId(1),
                host_name: "db1",
                info,
            })
            .collect();
        assert_eq!(order(&rows, "", Column::Cpu, true), vec![1, 0, 2]);
        assert_eq!(order(&rows, "POST", Column::Pid, false), vec![1]);
        assert_eq!(order(&rows, "bob", Column::Pid, false), vec![2]);
        assert_eq!(order(&rows, "22", Column::Pid, false), vec![1]);
        assert_eq!(order(&rows, "db1", Column::Mem, false), vec![0, 2, 1]);
        assert_eq!(order(&rows, "s", Column::Name, false), vec![2, 1, 0]);
        let shown = [
            (HostId(1), Pid(31)),
            (HostId(1), Pid(99)),
            (HostId(1), Pid(10)),
        ];
        // Kept rows stay in place, vanished ones go, new ones (pid 22) come last.
        let sorted = order(&rows, "", Column::Cpu, true);
        assert_eq!(keep_order(&rows, &shown, &sorted), vec![2, 0, 1]);
    }
}
