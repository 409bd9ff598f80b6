//! Names: entity names from file names, and names written the way segl reads them.

/// Words of schema declarations, written in backticks when a drafted name equals one of them (on
/// top of the words no name may be, `syntax::RESERVED`), so that a drafted schema reads clearly.
const SCHEMA_WORDS: &[&str] = &[
    "entity", "key", "optional", "label", "synonyms", "many", "one", "by", "dated", "list",
];

/// Whether `name` can be written without backticks.
#[must_use]
pub fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && !crate::syntax::RESERVED.contains(&name)
        && !SCHEMA_WORDS.contains(&name)
}

/// Whether `name` can be written at all (in backticks if need be).
#[must_use]
pub fn is_writable(name: &str) -> bool {
    !name.is_empty() && !name.contains(['`', '\n', '\r']) && name.trim() == name
}

/// A name as written in segl: bare when it can be, otherwise in backticks.
#[must_use]
pub fn written_name(name: &str) -> String {
    if is_plain(name) {
        name.to_owned()
    } else {
        format!("`{name}`")
    }
}

/// A field's name as written in the schema (the column's own name, so the loader finds it).
#[must_use]
pub fn field_name(column: &str) -> String {
    written_name(column)
}

/// A plain lower-case name made from any text: letters and digits kept, everything else `_`.
#[must_use]
pub fn snake(text: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            out.extend(c.to_lowercase());
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_owned()
}

/// The singular of an English plural, for entity names: `customers` → `customer`,
/// `companies` → `company`, `addresses` → `address`.
#[must_use]
pub fn singular(word: &str) -> String {
    let w = word;
    if let Some(stem) = w.strip_suffix("ies")
        && stem.len() > 1
    {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_owned();
        }
    }
    if w.len() > 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

/// The plural of an entity name, for `many` relations: `order` → `orders`,
/// `company` → `companies`.
#[must_use]
pub fn plural(word: &str) -> String {
    let vowel_before_y = word
        .strip_suffix('y')
        .and_then(|s| s.chars().last())
        .is_some_and(|c| "aeiou".contains(c));
    if let Some(stem) = word.strip_suffix('y')
        && !vowel_before_y
        && !stem.is_empty()
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// The entity name for a data file: its file name without folders and extension, as a plain
/// lower-case singular name (`data/Customers.csv` → `customer`), made unique among `used`.
#[must_use]
pub fn entity_name(file: &str, used: &[&str]) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.split('.').next().unwrap_or(base);
    let snake = snake(stem);
    // Singularise the last word only: `order_items` → `order_item`.
    let mut name = match snake.rsplit_once('_') {
        Some((head, last)) => format!("{head}_{}", singular(last)),
        None => singular(&snake),
    };
    if name.is_empty() {
        name = "record".to_owned();
    }
    if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        name = format!("data_{name}");
    }
    if !is_plain(&name) {
        name.push_str("_record");
    }
    let mut unique = name.clone();
    let mut n = 2;
    while used.contains(&unique.as_str()) {
        unique = format!("{name}_{n}");
        n += 1;
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(entity_name("data/customers.csv", &[]), "customer");
        assert_eq!(entity_name("Companies.parquet", &[]), "company");
        assert_eq!(entity_name("addresses.ndjson", &[]), "address");
        assert_eq!(entity_name("Order Items.csv", &[]), "order_item");
        assert_eq!(entity_name("status.csv", &[]), "status");
        assert_eq!(entity_name("customers.tsv", &["customer"]), "customer_2");
        assert_eq!(entity_name("2024.csv", &[]), "data_2024");
        assert_eq!(entity_name("segments.csv", &[]), "segment_record");
        assert_eq!(plural("company"), "companies");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("address"), "addresses");
        assert_eq!(snake("CustomerID"), "customer_id");
        assert_eq!(snake("First Name"), "first_name");
        assert_eq!(written_name("First Name"), "`First Name`");
        assert_eq!(written_name("case"), "`case`");
        assert_eq!(written_name("país"), "país");
    }
}
