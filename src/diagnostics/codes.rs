//! The registry of diagnostic codes. A code is never reused: a retired code stays here as
//! `Removed` so that old links and `# segl: allow` comments keep meaning what they meant.
//!
//! Every code's page lives in `docs/diagnostics/<CODE>.md` and is compiled into the binary for
//! `segl explain`; a missing page is a build error.

use super::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeStatus {
    Stable,
    Removed,
}

/// What the registry knows about one code.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    pub status: CodeStatus,
    /// A short title, as shown in the docs index.
    pub title: &'static str,
    /// The docs page (Markdown).
    pub doc: &'static str,
}

macro_rules! registry {
    ($( $code:ident $sev:ident $status:ident $title:literal ;)*) => {
        /// A registered diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $code, )*
        }

        /// Every code ever registered, in code order.
        pub static REGISTRY: &[CodeInfo] = &[
            $( CodeInfo {
                code: Code::$code,
                name: stringify!($code),
                severity: Severity::$sev,
                status: CodeStatus::$status,
                title: $title,
                doc: include_str!(concat!("../../docs/diagnostics/", stringify!($code), ".md")),
            }, )*
        ];
    };
}

registry! {
    // Reading files and projects.
    E0001 Error Stable "file is not UTF-8 text";
    E0002 Error Stable "invalid `segl.toml`";
    E0003 Error Stable "no rule files in the project";
    E0004 Error Stable "nesting too deep";

    // Syntax.
    E0100 Error Stable "unexpected text";
    E0101 Error Stable "bracket never closed";
    E0102 Error Stable "text never closed";
    E0103 Error Stable "typographic quote or dash";
    E0104 Error Stable "symbol instead of `and`, `or` or `not`";
    E0105 Error Stable "`==` instead of `=` or `is`";
    E0106 Error Stable "thousands separator in a number";
    E0107 Error Stable "condition missing after `and` or `or`";
    E0108 Error Stable "condition without `where`";
    E0109 Error Stable "merge-conflict marker";
    E0110 Error Stable "closing bracket without an opening one";
    E0111 Error Stable "invalid escape in text";

    // Literals.
    E0150 Error Stable "not a real date";
    E0151 Error Stable "not a valid timestamp";
    E0152 Error Stable "unknown duration unit";
    E0153 Error Stable "number out of range";
    E0154 Error Stable "invalid regular expression";

    // Schema.
    E0200 Error Stable "relation to an unknown entity";
    E0201 Error Stable "entity without a key";
    E0202 Error Stable "entity with more than one key";
    E0203 Error Stable "field declared twice";
    E0204 Error Stable "relation through a field that does not exist";
    E0205 Error Stable "`dated by` field is not a date";
    E0206 Error Stable "entity declared twice";
    E0207 Error Stable "enum value declared twice";
    E0208 Error Stable "no entity declared";
    E0209 Error Stable "key that is optional or a list";
    E0210 Error Stable "unknown type";
    E0211 Error Stable "relation key types do not match";

    // Names.
    E0300 Error Stable "unknown name";
    E0301 Error Stable "unknown relation";
    E0302 Error Stable "unknown segment";
    E0303 Error Stable "unknown parameter";
    E0304 Error Stable "unknown function";
    E0305 Error Stable "unknown enum value";
    E0306 Error Stable "unknown entity";
    E0307 Error Stable "name declared twice";
    E0308 Error Stable "rules that depend on themselves";
    E0309 Error Stable "relation used as a value";
    E0310 Error Stable "aggregate over something that is not a relation";
    E0311 Error Stable "time window on a relation without dates";
    E0312 Error Stable "segment of another entity";

    // Types.
    E0400 Error Stable "values of different kinds compared";
    E0401 Error Stable "operator does not fit this kind of value";
    E0402 Error Stable "value where a condition is expected";
    E0403 Error Stable "condition where a value is expected";
    E0404 Error Stable "arithmetic on values that do not add up";
    E0405 Error Stable "percentage where a number is expected";
    E0406 Error Stable "enum value written as text";
    E0407 Error Stable "wrong number of arguments";
    E0408 Error Stable "parameter default does not fit its type";
    E0409 Error Stable "list elements of different kinds";

    // Tiers, scores and tests.
    E0500 Error Stable "tier set without `otherwise`";
    E0501 Error Stable "tier after `otherwise`";
    E0502 Error Stable "test without `as of`";
    E0503 Error Stable "test record not declared";
    E0504 Error Stable "test record declared twice";
    E0505 Error Stable "expectation about something that is not a segment, tier or score";

    // Loading data files.
    E0600 Error Stable "data file cannot be read";
    E0601 Error Stable "data file is not in its format";
    E0602 Error Stable "column missing from a data file";
    E0603 Error Stable "value that does not fit its field";
    E0604 Error Stable "required value missing in the data";
    E0605 Error Stable "undeclared value in the data";
    E0606 Error Stable "key used by more than one record";
    E0607 Error Stable "column of the wrong type in a Parquet file";

    // Warnings from the checker.
    W0100 Warning Stable "`is unknown` on a field that is always known";

    // Warnings from loading data.
    W0600 Warning Stable "record whose related record is missing";

    // Tests.
    E0800 Error Stable "test expectation not met";
    E0801 Error Stable "test record without a required field";
    E0802 Error Stable "expected record not in the test's data";
    E0803 Error Stable "test record also in the test's data file";
    E0804 Error Stable "test value segl cannot use";

    // Schema inference.
    E0850 Error Stable "no column can be the key";
    E0851 Error Stable "data file of an unknown kind";
    E0852 Error Stable "data file without records";

    // Lints.
    W0700 Warning Stable "condition that is never true";
    W0701 Warning Stable "condition that is always true";
    W0702 Warning Stable "tier that is never chosen";
    W0703 Warning Stable "tiers that overlap";
    W0704 Warning Stable "records with an unknown value fall to `otherwise`";
    W0705 Warning Stable "negated test that includes unknown values";
    W0706 Warning Stable "definition that no rule uses";
    W0707 Warning Stable "parameter that no rule uses";
    W0708 Warning Stable "condition written twice";
    W0709 Warning Stable "rule without an owner";
    W0710 Warning Stable "rule without a description";
    W0711 Warning Stable "`# segl: allow` comment that cannot be used";

    // Checks against data.
    W0750 Warning Stable "segment that matches no record";
    W0751 Warning Stable "segment that matches every record";
    W0752 Warning Stable "condition that never changes who is in a segment";
    W0753 Warning Stable "tier that catches no record";
    W0754 Warning Stable "enum value no record has";
    W0755 Warning Stable "data column the schema does not declare";
    W0756 Warning Stable "optional field unknown in every record";

    // Compiling to SQL.
    E0900 Error Stable "rule the SQL engine cannot express";
    E0901 Error Stable "decimal arithmetic in SQLite";

    // Views and dbt models (`segl sql --views`, `segl sql --dbt`).
    E0910 Error Stable "dbt folder with files segl did not write";
    E0911 Error Stable "dbt folder that cannot be written";
    E0912 Error Stable "file segl wrote was changed by hand";
    E0913 Error Stable "two views or models with the same name";
    E0914 Error Stable "name that dbt cannot use";
    // Segments over time: `segl diff`, `segl run --history`.
    E1000 Error Stable "project not in a git repository";
    E1001 Error Stable "unknown git revision";
    E1002 Error Stable "project missing at the revision";
    E1003 Error Stable "rules at the revision do not check";
    E1004 Error Stable "history file segl cannot use";
    W1000 Warning Stable "parameter unknown at the revision";
}

impl Code {
    #[must_use]
    pub fn info(self) -> &'static CodeInfo {
        // The registry is generated in enum order, so the discriminant is the index.
        &REGISTRY[self as usize]
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// Looks a code up by its name, ignoring case (`e0300` finds `E0300`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Code> {
        REGISTRY
            .iter()
            .find(|info| info.name.eq_ignore_ascii_case(name.trim()))
            .map(|info| info.code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_enum_order() {
        for (i, info) in REGISTRY.iter().enumerate() {
            assert_eq!(info.code as usize, i, "{}", info.name);
            assert_eq!(Code::parse(info.name), Some(info.code));
        }
    }
}
