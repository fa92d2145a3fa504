//! What names mean while evaluating: the roots (`var`, `local`, `count`, `each`,
//! `path`, `terraform`, resource types, `data`) as values.

use std::path::{Path, PathBuf};

use dumcel_planner::Value;
use hashbrown::HashMap;

use crate::functions::Clock;

/// Built per evaluation from the references the expression makes, so building
/// it costs what the expression uses, not what the stack holds.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub roots: HashMap<String, Value>,
    /// Where relative paths (in `file()` and friends) resolve.
    pub base_dir: PathBuf,
    /// The only directory file functions may read from, when set: a stack
    /// from an untrusted branch must not read the worker's files.
    pub confine_files: Option<PathBuf>,
    /// Plan or apply (impure functions such as `timestamp()` are unknown
    /// while planning), and when the plan started.
    pub clock: Clock,
}

impl Scope {
    pub fn new(base_dir: &Path) -> Scope {
        Scope {
            roots: HashMap::new(),
            base_dir: base_dir.to_path_buf(),
            confine_files: None,
            clock: Clock::default(),
        }
    }

    /// The same scope with file functions confined to `root` (none: unconfined).
    pub fn confined_to(mut self, root: Option<&Path>) -> Scope {
        self.confine_files = root.map(Path::to_path_buf);
        self
    }

    pub fn set(&mut self, root: &str, value: Value) {
        self.roots.insert(root.to_owned(), value);
    }

    /// Sets `root.name = value`, creating the root object if needed.
    pub fn set_attr(&mut self, root: &str, name: &str, value: Value) {
        let entry = self
            .roots
            .entry(root.to_owned())
            .or_insert_with(|| Value::Map(Default::default()));
        if let Value::Map(map) = entry {
            map.insert(name.to_owned(), value);
        }
    }

    /// Sets `root.a.b = value` (for `data.TYPE.NAME`).
    pub fn set_attr2(&mut self, root: &str, a: &str, b: &str, value: Value) {
        let entry = self
            .roots
            .entry(root.to_owned())
            .or_insert_with(|| Value::Map(Default::default()));
        if let Value::Map(map) = entry {
            let inner = map
                .entry(a.to_owned())
                .or_insert_with(|| Value::Map(Default::default()));
            if let Value::Map(inner) = inner {
                inner.insert(b.to_owned(), value);
            }
        }
    }
}
