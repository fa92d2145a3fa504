//! Evaluating expressions to [`Value`]s, with unknown and sensitive marks
//! carried through every operation.

mod expr;
mod ops;
mod scope;

pub use expr::{EvalError, eval, suggest};
pub use ops::{to_bool, to_number};
pub use scope::Scope;
