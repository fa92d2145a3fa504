//! Collection functions: alltrue, anytrue, chunklist, coalesce, coalescelist,
//! compact, concat, contains, distinct, element, flatten, index, keys, length,
//! lookup, matchkeys, merge, one, range, reverse, setintersection, setproduct,
//! setsubtract, setunion, slice, sort, transpose, values, zipmap.
//!
//! Lists, tuples and sets share one representation; the `set*` functions
//! return sets (sorted, without duplicates). `range` and `setproduct` refuse
//! to build more than a million elements (Terraform's `range` stops at 1024).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{
    Args, Arity, Def, FuncContext, MAX_ELEMENTS, arg_type, compare, elem_type, invalid, make_set,
    to_bool, to_str, unify,
};
use dumcel_planner::{Map, Value};

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("alltrue", Arity::Exactly(1), alltrue),
    Def::new("anytrue", Arity::Exactly(1), anytrue),
    Def::new("chunklist", Arity::Exactly(2), chunklist),
    Def::new("coalesce", Arity::AtLeast(1), coalesce),
    Def::new("coalescelist", Arity::AtLeast(1), coalescelist),
    Def::new("compact", Arity::Exactly(1), compact),
    Def::new("concat", Arity::AtLeast(0), concat),
    Def::new("contains", Arity::Exactly(2), contains),
    Def::new("distinct", Arity::Exactly(1), distinct),
    Def::new("element", Arity::Exactly(2), element),
    Def::new("flatten", Arity::Exactly(1), flatten),
    Def::new("index", Arity::Exactly(2), index),
    Def::new("keys", Arity::Exactly(1), keys),
    Def::new("length", Arity::Exactly(1), length),
    Def::new("lookup", Arity::Between(2, 3), lookup),
    Def::new("matchkeys", Arity::Exactly(3), matchkeys),
    Def::new("merge", Arity::AtLeast(0), merge),
    Def::new("one", Arity::Exactly(1), one),
    Def::new("range", Arity::Between(1, 3), range),
    Def::new("reverse", Arity::Exactly(1), reverse),
    Def::new("setintersection", Arity::AtLeast(1), setintersection),
    Def::new("setproduct", Arity::AtLeast(2), setproduct),
    Def::new("setsubtract", Arity::Exactly(2), setsubtract),
    Def::new("setunion", Arity::AtLeast(1), setunion),
    Def::new("slice", Arity::Exactly(3), slice),
    Def::new("sort", Arity::Exactly(1), sort),
    Def::new("transpose", Arity::Exactly(1), transpose),
    Def::new("values", Arity::Exactly(1), values),
    Def::new("zipmap", Arity::Exactly(2), zipmap),
];

fn list(items: Vec<Value>) -> Result<Value, String> {
    Ok(Value::List(items))
}

/// Moves list argument `i` out of the arguments.
fn take_list(a: &mut Args, i: usize) -> Result<Vec<Value>, String> {
    a.list(i)?;
    match a.take(i) {
        Value::List(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

fn alltrue(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    for (j, v) in a.list(0)?.iter().enumerate() {
        if v.is_null() {
            return Ok(Value::Bool(false));
        }
        if !to_bool(v).ok_or_else(|| elem_type("a bool", v, 0, j))? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn anytrue(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    for (j, v) in a.list(0)?.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        if to_bool(v).ok_or_else(|| elem_type("a bool", v, 0, j))? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn chunklist(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let size = a.integer(1, "size")?;
    if size < 0 {
        return Err(invalid("size", "must be non-negative"));
    }
    let items = take_list(a, 0)?;
    if size == 0 {
        return list(vec![Value::List(items)]);
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    list(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    )
}

fn coalesce(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let all = a.take_all();
    unify(all)
        .into_iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .ok_or_else(|| "no non-null, non-empty-string arguments".to_string())
}

fn coalescelist(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    for i in 0..a.len() {
        if a.get(i).is_null() {
            continue;
        }
        if !a.list(i)?.is_empty() {
            return Ok(a.take(i));
        }
    }
    Err("no non-null arguments".into())
}

fn compact(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for (j, v) in a.list(0)?.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        let s = to_str(v).ok_or_else(|| elem_type("a string", v, 0, j))?;
        if !s.is_empty() {
            out.push(Value::String(s.into_owned()));
        }
    }
    list(out)
}

fn concat(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for i in 0..a.len() {
        out.extend(take_list(a, i)?);
    }
    list(out)
}

fn contains(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let needle = a.get(1);
    Ok(Value::Bool(a.list(0)?.iter().any(|v| v == needle)))
}

fn distinct(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let items = take_list(a, 0)?;
    // Sort the indexes by value (stably), keep the first index of each run.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&x, &y| compare(&items[x], &items[y]));
    let mut keep = vec![false; items.len()];
    let mut prev: Option<usize> = None;
    for &i in &order {
        if prev.is_none_or(|p| compare(&items[p], &items[i]) != Ordering::Equal) {
            keep[i] = true;
        }
        prev = Some(i);
    }
    list(
        items
            .into_iter()
            .zip(keep)
            .filter_map(|(v, k)| k.then_some(v))
            .collect(),
    )
}

fn element(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let n = a.number(1)?;
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(invalid("index", "must be a whole number"));
    }
    if n < 0.0 {
        return Err(invalid(
            "index",
            "cannot use element function with a negative index",
        ));
    }
    let items = a.list(0)?;
    if items.is_empty() {
        return Err(invalid(
            "list",
            "cannot use element function with an empty list",
        ));
    }
    // `%` on floats is exact, so huge indexes still wrap correctly.
    let i = (n % items.len() as f64) as usize;
    Ok(items[i.min(items.len() - 1)].clone())
}

fn flatten_into(items: Vec<Value>, out: &mut Vec<Value>) {
    for v in items {
        match v {
            Value::List(inner) => flatten_into(inner, out),
            other => out.push(other),
        }
    }
}

fn flatten(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    flatten_into(take_list(a, 0)?, &mut out);
    list(out)
}

fn index(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let needle = a.get(1);
    a.list(0)?
        .iter()
        .position(|v| v == needle)
        .map(|i| Value::Number(i as f64))
        .ok_or_else(|| "item not found".to_string())
}

fn keys(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    list(a.map(0)?.keys().map(|k| Value::String(k.clone())).collect())
}

fn values(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    list(a.map(0)?.values().cloned().collect())
}

fn length(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let n = match a.get(0) {
        Value::String(s) => s.chars().count(),
        Value::List(items) => items.len(),
        Value::Map(map) => map.len(),
        other => return Err(arg_type("a collection or a string", other, 0)),
    };
    Ok(Value::Number(n as f64))
}

fn lookup(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let key = a.string(1)?.into_owned();
    if let Some(v) = a.map(0)?.get(&key) {
        return Ok(v.clone());
    }
    if a.len() == 3 {
        return Ok(a.take(2));
    }
    Err(format!("lookup failed to find key {key:?}"))
}

fn matchkeys(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (vals, keys, search) = (a.list(0)?, a.list(1)?, a.list(2)?);
    if vals.len() != keys.len() {
        return Err(invalid(
            "keys",
            format!(
                "length of keys ({}) and values ({}) should be equal",
                keys.len(),
                vals.len()
            ),
        ));
    }
    list(
        vals.iter()
            .zip(keys)
            .filter(|(_, k)| search.contains(k))
            .map(|(v, _)| v.clone())
            .collect(),
    )
}

fn merge(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out = Map::new();
    for i in 0..a.len() {
        match a.take(i) {
            Value::Null => {}
            Value::Map(map) => out.extend(map),
            other => {
                return Err(format!(
                    "arguments must be maps or objects, got {} (argument {})",
                    other.type_name(),
                    i + 1
                ));
            }
        }
    }
    Ok(Value::Map(out))
}

fn one(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut items = take_list(a, 0)?;
    match items.len() {
        0 => Ok(Value::Null),
        1 => Ok(items.remove(0)),
        _ => Err(invalid(
            "list",
            "must be a list, set, or tuple value with either zero or one elements",
        )),
    }
}

fn range(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let params: &[&str] = if a.len() == 1 {
        &["limit"]
    } else {
        &["start", "limit", "step"]
    };
    let mut nums = Vec::with_capacity(a.len());
    for (i, param) in params.iter().enumerate().take(a.len()) {
        let n = a.number(i)?;
        if !n.is_finite() {
            return Err(invalid(param, "must be a finite number"));
        }
        nums.push(n);
    }
    let (start, limit, step) = match nums[..] {
        [limit] => (0.0, limit, if limit < 0.0 { -1.0 } else { 1.0 }),
        [start, limit] => (start, limit, if limit < start { -1.0 } else { 1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => return Err(format!("expected 1 to 3 arguments, got {}", nums.len())),
    };
    if step == 0.0 {
        return Err(invalid("step", "must not be zero"));
    }
    let before = |v: f64| if step > 0.0 { v < limit } else { v > limit };
    if !before(start) {
        return list(Vec::new());
    }
    let count = ((limit - start) / step).ceil();
    if count.is_nan() || count > MAX_ELEMENTS as f64 {
        return Err(format!(
            "more than {MAX_ELEMENTS} values would be generated; either decrease the \
             difference between start and limit or use a larger step"
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let v = start + i as f64 * step;
        if !before(v) {
            break;
        }
        out.push(Value::Number(v));
    }
    list(out)
}

fn reverse(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut items = take_list(a, 0)?;
    items.reverse();
    list(items)
}

/// All the list arguments, with element types unified across all of them
/// (so that `setunion(["1"], [1])` compares strings with strings).
fn unified_lists(a: &mut Args) -> Result<Vec<Vec<Value>>, String> {
    let mut lens = Vec::with_capacity(a.len());
    let mut all = Vec::new();
    for i in 0..a.len() {
        let items = take_list(a, i)?;
        lens.push(items.len());
        all.extend(items);
    }
    let mut all = unify(all).into_iter();
    Ok(lens
        .into_iter()
        .map(|n| all.by_ref().take(n).collect())
        .collect())
}

fn set_contains(set: &[Value], v: &Value) -> bool {
    set.binary_search_by(|x| compare(x, v)).is_ok()
}

fn setintersection(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut lists = unified_lists(a)?.into_iter().map(make_set);
    let mut out = lists.next().unwrap_or_default();
    for other in lists {
        out.retain(|v| set_contains(&other, v));
    }
    list(out)
}

fn setsubtract(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut lists = unified_lists(a)?.into_iter().map(make_set);
    let mut out = lists.next().unwrap_or_default();
    let remove = lists.next().unwrap_or_default();
    out.retain(|v| !set_contains(&remove, v));
    list(out)
}

fn setunion(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    list(make_set(unified_lists(a)?.into_iter().flatten().collect()))
}

fn setproduct(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut lists = Vec::with_capacity(a.len());
    let mut total: usize = 1;
    for i in 0..a.len() {
        let items = a.list(i)?;
        total = total.saturating_mul(items.len());
        lists.push(items);
    }
    if total > MAX_ELEMENTS {
        return Err(format!(
            "the product would have more than {MAX_ELEMENTS} elements"
        ));
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for items in lists {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                items.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    list(out.into_iter().map(Value::List).collect())
}

fn slice(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let start = a.integer(1, "start_index")?;
    let end = a.integer(2, "end_index")?;
    let items = a.list(0)?;
    if start < 0 {
        return Err(invalid("start_index", "must not be negative"));
    }
    if end > items.len() as i64 {
        return Err(invalid(
            "end_index",
            "must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(invalid(
            "start_index",
            "must not be greater than the end index",
        ));
    }
    list(items[start as usize..end as usize].to_vec())
}

fn sort(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for (j, v) in a.list(0)?.iter().enumerate() {
        if v.is_null() {
            return Err(format!(
                "given list element {j} is null; a null string cannot be sorted"
            ));
        }
        out.push(
            to_str(v)
                .ok_or_else(|| elem_type("a string", v, 0, j))?
                .into_owned(),
        );
    }
    out.sort();
    list(out.into_iter().map(Value::String).collect())
}

fn transpose(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, v) in a.map(0)? {
        let items = v.as_list().ok_or_else(|| {
            format!(
                "expected a list of strings for key {key:?}, got {}",
                v.type_name()
            )
        })?;
        for item in items {
            let s = match item {
                Value::Null => return Err(format!("the list for key {key:?} contains null")),
                other => to_str(other).ok_or_else(|| {
                    format!(
                        "expected a list of strings for key {key:?}, found {}",
                        other.type_name()
                    )
                })?,
            };
            out.entry(s.into_owned())
                .or_default()
                .push(Value::String(key.clone()));
        }
    }
    Ok(Value::Map(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}

fn zipmap(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let keys = a.string_list(0)?;
    let vals = a.list(1)?;
    if keys.len() != vals.len() {
        return Err(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        ));
    }
    Ok(Value::Map(
        keys.into_iter()
            .zip(vals)
            .map(|(k, v)| (k.into_owned(), v.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;
    use dumcel_planner::Value;

    #[test]
    fn bools() {
        assert_eq!(ok("alltrue", vec![list(vec![s("true"), b(true)])]), b(true));
        assert_eq!(ok("alltrue", vec![list(vec![b(true), b(false)])]), b(false));
        assert_eq!(ok("alltrue", vec![list(vec![])]), b(true));
        assert_eq!(ok("anytrue", vec![list(vec![])]), b(false));
        assert_eq!(
            ok("anytrue", vec![list(vec![b(false), s("true")])]),
            b(true)
        );
        assert_eq!(
            ok("anytrue", vec![list(vec![Value::Null, b(false)])]),
            b(false)
        );
        assert_eq!(
            err("alltrue", vec![list(vec![s("yes")])]),
            "expected a bool, got string (argument 1, element 0)"
        );
    }

    #[test]
    fn chunklist_splits() {
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b", "c", "d", "e"]), n(2.0)]),
            list(vec![strs(&["a", "b"]), strs(&["c", "d"]), strs(&["e"])])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b"]), n(0.0)]),
            list(vec![strs(&["a", "b"])])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a"]), n(1e15)]),
            list(vec![strs(&["a"])])
        );
        assert_eq!(
            err("chunklist", vec![strs(&["a"]), n(-1.0)]),
            "Invalid value for \"size\" parameter: must be non-negative"
        );
        assert!(err("chunklist", vec![strs(&["a"]), n(f64::NAN)]).contains("whole number"));
    }

    #[test]
    fn coalescing() {
        assert_eq!(ok("coalesce", vec![s("a"), s("b")]), s("a"));
        assert_eq!(ok("coalesce", vec![s(""), s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![n(1.0), n(2.0)]), n(1.0));
        assert_eq!(ok("coalesce", vec![Value::Null, n(1.0), s("a")]), s("1"));
        assert_eq!(
            err("coalesce", vec![Value::Null, s("")]),
            "no non-null, non-empty-string arguments"
        );
        assert_eq!(
            ok("coalescelist", vec![strs(&["a", "b"]), strs(&["c", "d"])]),
            strs(&["a", "b"])
        );
        assert_eq!(
            ok("coalescelist", vec![strs(&[]), strs(&["c", "d"])]),
            strs(&["c", "d"])
        );
        assert_eq!(
            err("coalescelist", vec![strs(&[])]),
            "no non-null arguments"
        );
        assert_eq!(
            ok(
                "compact",
                vec![list(vec![s("a"), s(""), s("b"), Value::Null, s("c")])]
            ),
            strs(&["a", "b", "c"])
        );
    }

    #[test]
    fn concat_contains_distinct() {
        assert_eq!(
            ok("concat", vec![strs(&["a", ""]), strs(&["b", "c"])]),
            strs(&["a", "", "b", "c"])
        );
        assert_eq!(ok("concat", vec![]), list(vec![]));
        assert_eq!(
            err("concat", vec![strs(&["a"]), s("b")]),
            "expected a list, got string (argument 2)"
        );
        assert_eq!(
            ok("contains", vec![strs(&["a", "b", "c"]), s("a")]),
            b(true)
        );
        assert_eq!(
            ok("contains", vec![strs(&["a", "b", "c"]), s("d")]),
            b(false)
        );
        assert_eq!(
            ok("distinct", vec![strs(&["a", "b", "a", "c", "d", "b"])]),
            strs(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("distinct", vec![strs(&["b", "a", "b"])]),
            strs(&["b", "a"])
        );
    }

    #[test]
    fn element_wraps_around() {
        assert_eq!(ok("element", vec![strs(&["a", "b", "c"]), n(1.0)]), s("b"));
        assert_eq!(ok("element", vec![strs(&["a", "b"]), n(3.0)]), s("b"));
        assert_eq!(ok("element", vec![strs(&["a", "b"]), n(1e300)]), s("a"));
        assert_eq!(ok("element", vec![strs(&["a", "b"]), s("2")]), s("a"));
        assert!(err("element", vec![strs(&[]), n(0.0)]).contains("empty list"));
        assert!(err("element", vec![strs(&["a"]), n(-1.0)]).contains("negative index"));
        assert!(err("element", vec![strs(&["a"]), n(0.5)]).contains("whole number"));
    }

    #[test]
    fn flatten_index_keys_values() {
        assert_eq!(
            ok(
                "flatten",
                vec![list(vec![strs(&["a", "b"]), strs(&[]), strs(&["c"])])]
            ),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            ok(
                "flatten",
                vec![list(vec![
                    list(vec![strs(&["a", "b"]), strs(&[])]),
                    strs(&["c"]),
                    s("d")
                ])]
            ),
            strs(&["a", "b", "c", "d"])
        );
        assert_eq!(ok("index", vec![strs(&["a", "b", "c"]), s("b")]), n(1.0));
        assert_eq!(err("index", vec![strs(&["a"]), s("z")]), "item not found");
        let m = map(&[("d", n(3.0)), ("a", n(1.0)), ("c", n(2.0))]);
        assert_eq!(ok("keys", vec![m.clone()]), strs(&["a", "c", "d"]));
        assert_eq!(ok("values", vec![m]), nums(&[1.0, 2.0, 3.0]));
    }

    #[test]
    fn length_of_everything() {
        assert_eq!(ok("length", vec![strs(&[])]), n(0.0));
        assert_eq!(ok("length", vec![strs(&["a", "b"])]), n(2.0));
        assert_eq!(ok("length", vec![map(&[("a", s("b"))])]), n(1.0));
        assert_eq!(ok("length", vec![s("hello")]), n(5.0));
        assert_eq!(ok("length", vec![s("🤔🤷")]), n(2.0));
        assert_eq!(
            err("length", vec![n(1.0)]),
            "expected a collection or a string, got number (argument 1)"
        );
        assert!(err("length", vec![Value::Null]).contains("got null"));
    }

    #[test]
    fn lookup_and_merge() {
        let m = map(&[("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(ok("lookup", vec![m.clone(), s("a"), s("what?")]), s("ay"));
        assert_eq!(
            ok("lookup", vec![m.clone(), s("c"), s("what?")]),
            s("what?")
        );
        assert_eq!(ok("lookup", vec![m.clone(), s("b")]), s("bee"));
        assert_eq!(
            err("lookup", vec![m, s("c")]),
            "lookup failed to find key \"c\""
        );
        assert_eq!(
            ok(
                "merge",
                vec![
                    map(&[("a", s("b")), ("c", s("d"))]),
                    map(&[("e", s("f")), ("c", s("z"))]),
                    Value::Null,
                ]
            ),
            map(&[("a", s("b")), ("c", s("z")), ("e", s("f"))])
        );
        assert_eq!(ok("merge", vec![]), map(&[]));
        assert_eq!(
            err("merge", vec![map(&[]), strs(&[])]),
            "arguments must be maps or objects, got list (argument 2)"
        );
    }

    #[test]
    fn matchkeys_one_reverse() {
        assert_eq!(
            ok(
                "matchkeys",
                vec![
                    strs(&["i-123", "i-abc", "i-def"]),
                    strs(&["us-west", "us-east", "us-east"]),
                    strs(&["us-east"]),
                ]
            ),
            strs(&["i-abc", "i-def"])
        );
        assert!(
            err("matchkeys", vec![strs(&["a"]), strs(&[]), strs(&[])]).contains("should be equal")
        );
        assert_eq!(ok("one", vec![strs(&[])]), Value::Null);
        assert_eq!(ok("one", vec![strs(&["hello"])]), s("hello"));
        assert!(err("one", vec![strs(&["a", "b"])]).contains("zero or one"));
        assert_eq!(
            ok("reverse", vec![nums(&[1.0, 2.0, 3.0])]),
            nums(&[3.0, 2.0, 1.0])
        );
    }

    #[test]
    fn range_like_terraform() {
        assert_eq!(ok("range", vec![n(3.0)]), nums(&[0.0, 1.0, 2.0]));
        assert_eq!(ok("range", vec![n(1.0), n(4.0)]), nums(&[1.0, 2.0, 3.0]));
        assert_eq!(
            ok("range", vec![n(1.0), n(8.0), n(2.0)]),
            nums(&[1.0, 3.0, 5.0, 7.0])
        );
        assert_eq!(
            ok("range", vec![n(1.0), n(10.0), n(3.0)]),
            nums(&[1.0, 4.0, 7.0])
        );
        assert_eq!(
            ok("range", vec![n(1.0), n(4.0), n(0.5)]),
            nums(&[1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
        );
        assert_eq!(ok("range", vec![n(4.0), n(1.0)]), nums(&[4.0, 3.0, 2.0]));
        assert_eq!(
            ok("range", vec![n(10.0), n(5.0), n(-2.0)]),
            nums(&[10.0, 8.0, 6.0])
        );
        assert_eq!(ok("range", vec![n(-3.0)]), nums(&[0.0, -1.0, -2.0]));
        assert_eq!(ok("range", vec![n(0.0)]), nums(&[]));
        assert_eq!(ok("range", vec![n(1.0), n(4.0), n(-1.0)]), nums(&[]));
        assert_eq!(
            err("range", vec![n(0.0), n(1.0), n(0.0)]),
            "Invalid value for \"step\" parameter: must not be zero"
        );
        assert!(err("range", vec![n(1e9)]).contains("more than 1000000 values"));
        assert!(err("range", vec![n(0.0), n(1.0), n(1e-300)]).contains("more than"));
        assert!(err("range", vec![n(-1e308), n(1e308)]).contains("more than"));
        assert!(err("range", vec![n(f64::INFINITY)]).contains("finite"));
        assert_eq!(
            ok("range", vec![n(1e6)]).as_list().map(<[_]>::len),
            Some(1_000_000)
        );
    }

    #[test]
    fn sets() {
        assert_eq!(
            ok(
                "setintersection",
                vec![strs(&["a", "b"]), strs(&["b", "c"]), strs(&["b", "d"])]
            ),
            strs(&["b"])
        );
        assert_eq!(
            ok(
                "setsubtract",
                vec![strs(&["a", "b", "c"]), strs(&["a", "c"])]
            ),
            strs(&["b"])
        );
        assert_eq!(
            ok(
                "setunion",
                vec![strs(&["b", "a"]), strs(&["b", "c"]), strs(&["d"])]
            ),
            strs(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("setunion", vec![strs(&["1"]), nums(&[1.0, 2.0])]),
            strs(&["1", "2"])
        );
        assert_eq!(
            ok(
                "setproduct",
                vec![strs(&["development", "staging"]), strs(&["app1", "app2"])]
            ),
            list(vec![
                strs(&["development", "app1"]),
                strs(&["development", "app2"]),
                strs(&["staging", "app1"]),
                strs(&["staging", "app2"]),
            ])
        );
        assert_eq!(
            ok("setproduct", vec![strs(&["a"]), strs(&[])]),
            list(vec![])
        );
    }

    #[test]
    fn slice_sort_transpose_zipmap() {
        assert_eq!(
            ok("slice", vec![strs(&["a", "b", "c", "d"]), n(1.0), n(3.0)]),
            strs(&["b", "c"])
        );
        assert!(err("slice", vec![strs(&["a"]), n(0.0), n(2.0)]).contains("end_index"));
        assert!(err("slice", vec![strs(&["a"]), n(1.0), n(0.0)]).contains("start_index"));
        assert!(err("slice", vec![strs(&["a"]), n(-1.0), n(0.0)]).contains("negative"));
        assert_eq!(
            ok("sort", vec![strs(&["e", "d", "a", "x"])]),
            strs(&["a", "d", "e", "x"])
        );
        assert_eq!(
            ok("sort", vec![nums(&[3.0, 1.0, 10.0])]),
            strs(&["1", "10", "3"])
        );
        assert_eq!(
            ok(
                "transpose",
                vec![map(&[("a", strs(&["1", "2"])), ("b", strs(&["2", "3"]))])]
            ),
            map(&[
                ("1", strs(&["a"])),
                ("2", strs(&["a", "b"])),
                ("3", strs(&["b"]))
            ])
        );
        assert_eq!(
            ok("zipmap", vec![strs(&["a", "b"]), nums(&[1.0, 2.0])]),
            map(&[("a", n(1.0)), ("b", n(2.0))])
        );
        assert_eq!(
            err("zipmap", vec![strs(&["a", "b"]), nums(&[1.0])]),
            "number of keys (2) does not match number of values (1)"
        );
    }
}
