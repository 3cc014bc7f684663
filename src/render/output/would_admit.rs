//! Text for the simulator's results in `inventory`: what would admit workload templates that
//! have no pods.

use std::io::{self, Write};

use crate::output::Style;
use crate::simulate::inventory::WouldAdmit;

/// One line per template, then its changes or its first rejection per PSP.
pub fn text(w: &mut dyn Write, list: &[WouldAdmit], style: Style) -> io::Result<()> {
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
        match &a.psp {
            Some(p) if a.mutated => writeln!(w, "{head}: {p}, with mutation")?,
            Some(p) => writeln!(w, "{head}: {p}")?,
            None => writeln!(w, "{head}: {}", style.red("rejected by every usable PSP"))?,
        }
        for c in &a.changes {
            writeln!(w, "    {}: {} → {}", c.field, c.old, c.new)?;
        }
        if a.psp.is_none() {
            for (psp, errs) in &a.rejections {
                if let Some(e) = errs.first() {
                    writeln!(w, "    {psp}: {e}")?;
                }
            }
        }
    }
    writeln!(w)
}
