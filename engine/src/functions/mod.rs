// TEMPORARY local stub until the functions branch merges; never committed.
use dumcel_planner::Value;
pub struct FuncContext<'a> {
    pub base_dir: &'a std::path::Path,
}
pub fn call(name: &str, args: Vec<Value>, _ctx: &FuncContext<'_>) -> Option<Result<Value, String>> {
    match name {
        "length" => Some(Ok(Value::Number(
            args.first()
                .and_then(|a| a.as_list())
                .map(|l| l.len())
                .unwrap_or(0) as f64,
        ))),
        "upper" => Some(Ok(Value::string(
            args[0].as_str().unwrap_or("").to_uppercase(),
        ))),
        _ => None,
    }
}
pub fn names() -> &'static [&'static str] {
    &["length", "upper"]
}
