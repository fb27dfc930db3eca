//! Renderers of reports for people: the terminal summary of a run, the output of `check`,
//! the self-contained HTML report (whose charts come from [`crate::chart`]), and the tables,
//! CSV ([`experiment`]) and HTML page ([`render_experiment_html`]) of experiments.
//!
//! Renderers only read: they never run a model or change a report, so a report saved as
//! JSON renders exactly as the run that wrote it.

pub mod experiment;
mod experiment_html;
mod html;
mod summary;
mod text;

pub use experiment_html::render_experiment_html;
pub use html::render_html;
pub use summary::{render_analysis, render_summary, render_summary_with, SummaryOptions};
