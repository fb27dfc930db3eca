//! Colours shared by every chart, from the Okabe–Ito palette (distinguishable with the common
//! forms of colour blindness). One colour per outcome, per breaker state and per occupancy
//! state, the same in every chart.

use crate::outcome::Outcome;
use plotters::style::RGBColor;

/// Okabe–Ito: black.
pub const BLACK: RGBColor = RGBColor(0, 0, 0);
/// Okabe–Ito: orange.
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
/// Okabe–Ito: sky blue.
pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
/// Okabe–Ito: bluish green.
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
/// Okabe–Ito: yellow.
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
/// Okabe–Ito: blue.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Okabe–Ito: vermillion.
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
/// Okabe–Ito: reddish purple.
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
/// A neutral grey for fault windows, grids and secondary marks.
pub const GREY: RGBColor = RGBColor(153, 153, 153);

/// A sequence of distinct colours for series without a fixed meaning (several runs, several
/// callees), in the order they are used.
pub const SERIES: [RGBColor; 7] = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, BLACK];

/// The colour of an outcome, the same in every chart.
pub fn outcome(outcome: Outcome) -> RGBColor {
    match outcome {
        Outcome::Ok => GREEN,
        Outcome::Error => VERMILLION,
        Outcome::Timeout => ORANGE,
        Outcome::Rejected => PURPLE,
        Outcome::CircuitOpen => BLUE,
        Outcome::Unavailable => BLACK,
        Outcome::Degraded => SKY_BLUE,
        #[allow(unreachable_patterns)]
        _ => GREY,
    }
}

/// The colour of a circuit breaker state (`closed`, `open`, `half_open`, as in the report).
pub fn breaker_state(state: &str) -> RGBColor {
    match state {
        "closed" => GREEN,
        "open" => VERMILLION,
        "half_open" => YELLOW,
        _ => GREY,
    }
}

/// The `i`-th colour of [`SERIES`], starting again from the first when there are more series
/// than colours.
pub fn series(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// The colour of what busy workers do (a `state` of a service's occupancy in the report):
/// `working`, `backoff` and `fan-out` have fixed colours; `waiting on <callee>` states take
/// theirs in turn by `nth_wait`, the callee's position among the waits of that service, so
/// that the callees of one chart are told apart.
pub fn occupancy(state: &str, nth_wait: usize) -> RGBColor {
    const WAITING: [RGBColor; 5] = [VERMILLION, PURPLE, GREEN, SKY_BLUE, BLACK];
    match state {
        "working" => BLUE,
        "backoff" => ORANGE,
        "fan-out" => YELLOW,
        _ => WAITING[nth_wait % WAITING.len()],
    }
}

/// A colour for a value in `[0, 1]` where 1 is good (availability) or, with `bad_high`, where
/// 1 is bad (utilization): from bluish green through yellow to vermillion.
pub fn scale(value: f64, bad_high: bool) -> RGBColor {
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let badness = if bad_high { v } else { 1.0 - v };
    let lerp = |a: RGBColor, b: RGBColor, t: f64| {
        let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    };
    if badness < 0.5 {
        lerp(GREEN, YELLOW, badness * 2.0)
    } else {
        lerp(YELLOW, VERMILLION, (badness - 0.5) * 2.0)
    }
}

/// `#rrggbb` for a colour, for SVG or HTML written by hand.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_its_own_colour() {
        let colours: Vec<String> = Outcome::ALL.iter().map(|&o| hex(outcome(o))).collect();
        for (i, a) in colours.iter().enumerate() {
            assert!(!colours[i + 1..].contains(a), "{a} used twice");
        }
    }

    #[test]
    fn the_scale_runs_from_green_to_vermillion() {
        assert_eq!(scale(1.0, false), GREEN);
        assert_eq!(scale(0.0, false), VERMILLION);
        assert_eq!(scale(0.0, true), GREEN);
        assert_eq!(scale(f64::NAN, true), GREEN);
        assert_eq!(hex(scale(0.5, true)), hex(YELLOW));
    }
}
