//! Text for the simulator's results in `inventory`: what would admit workload templates that
//! have no pods.

use std::io::{self, Write};

use crate::output::Style;
use crate::output::text::line;
use crate::simulate::inventory::WouldAdmit;

/// One line per template, then its changes or its first rejection per PSP (wrapped to the
/// style's width).
pub fn text(w: &mut dyn Write, list: &[WouldAdmit], style: Style) -> io::Result<()> {
    let width = style.width;
    if list.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "{}",
        style.bold(&format!("Templates without pods: PSP that would admit them ({})", list.len()))
    )?;
    for a in list {
        let what = match &a.path {
            Some(p) => format!("{} {}/{} {p}", a.kind, a.namespace, a.name),
            None => format!("{} {}/{}", a.kind, a.namespace, a.name),
        };
        let head = format!("  {what} ({})", a.reason);
        let verdict = match &a.psp {
            Some(p) if a.mutated => format!("{p}, with mutation"),
            Some(p) => p.clone(),
            None => style.red("rejected by every usable PSP"),
        };
        line(w, width, &format!("{head}: {verdict}"))?;
        for c in &a.changes {
            line(w, width, &format!("    {}: {} → {}", c.field, c.old, c.new))?;
        }
        if a.psp.is_none() {
            for (psp, errs) in &a.rejections {
                if let Some(e) = errs.first() {
                    line(w, width, &format!("    {psp}: {e}"))?;
                }
            }
        }
    }
    writeln!(w)
}
