//! The library as a teacher uses it: topologies written back as RON, the builder, edits that
//! are validated, report accessors, and the example programs.

use crate::common::{bundled, opts};
use microsim::spec::parse_ron;

/// Every bundled topology, read and written back as RON, reads as the same spec, compiles to
/// the same model (its short run gives a byte-identical report) and writes the same text
/// again.
#[test]
fn every_bundled_topology_round_trips_through_ron() {
    for path in bundled() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = parse_ron(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = spec.to_ron();
        let back = parse_ron(&written).unwrap_or_else(|e| panic!("{name}: {e}\n{written}"));
        assert_eq!(back, spec, "{name}: the spec differs when read back");
        assert_eq!(back.to_ron(), written, "{name}: written twice, the texts differ");

        let original = microsim::parse(&text, &name).unwrap();
        let again = microsim::parse(&written, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.variants, original.variants, "{name}");
        let options = opts(5.0, 1.0);
        let (a, b) = (
            original.run(&options).unwrap().to_json(),
            again.run(&options).unwrap().to_json(),
        );
        assert!(a == b, "{name}: the reports of the two models differ");
    }
}
