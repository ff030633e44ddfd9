use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sel(s: &str) -> LabelSelector {
    match LabelSelector::parse(s) {
        Ok(x) => x,
        Err(e) => panic!("{s:?}: {e}"),
    }
}

fn label_err(s: &str) -> String {
    match LabelSelector::parse(s) {
        Ok(x) => panic!("{s:?} parsed as {x}"),
        Err(e) => e.to_string(),
    }
}

const BAD_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#[test]
fn label_operators_match() {
    let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
    for (s, want) in [
        ("", true),
        ("app=web", true),
        ("app==web", true),
        ("app=db", false),
        ("app!=db", true),
        ("app!=web", false),
        ("missing!=x", true),
        ("app in (web,db)", true),
        ("app in (db)", false),
        ("missing in (x)", false),
        ("app notin (db)", true),
        ("app notin (web)", false),
        ("missing notin (x)", true),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("app=web,tier=front", true),
        ("app=web,tier=back", false),
        ("n>4", true),
        ("n>5", false),
        ("n<6", true),
        ("app>1", false),
        ("missing<1", false),
        ("app=", false),
        ("missing=", false),
    ] {
        assert_eq!(sel(s).matches(&l), want, "{s}");
    }
}

#[test]
fn label_parsing_is_whitespace_tolerant_and_canonical() {
    for (input, canonical) in [
        ("", ""),
        ("  ", ""),
        ("x=a", "x=a"),
        (" x = a ", "x=a"),
        ("x==a", "x==a"),
        ("x!=a", "x!=a"),
        ("x in (b, a)", "x in (a,b)"),
        ("x  notin(a)", "x notin (a)"),
        ("z,!y,x", "x,!y,z"),
        ("x=", "x="),
        ("x=,z= ", "x=,z="),
        ("x in ()", "x in ()"),
        ("x in (,a)", "x in (,a)"),
        ("x in (a,,b)", "x in (,a,b)"),
        ("x in (in,notin)", "x in (in,notin)"),
        ("example.com/app in (a)", "example.com/app in (a)"),
        ("x>1,y<2", "x>1,y<2"),
        ("\tx\n=\ra", "x=a"),
    ] {
        let s = sel(input);
        assert_eq!(s.to_string(), canonical, "{input:?}");
        // The canonical string parses back to the same selector.
        assert_eq!(sel(canonical), s, "{input:?}");
    }
    assert!(sel("").is_everything());
    assert!(!sel("a").is_everything());
    assert_eq!(
        sel("x in (a,,b)").requirements()[0].values(),
        &["", "a", "b"]
    );
}

#[test]
fn label_parse_errors_are_upstreams() {
    assert_eq!(
        label_err("app=-x"),
        format!("unable to parse requirement: values[0][app]: Invalid value: \"-x\": {BAD_VALUE}")
    );
    assert_eq!(
        label_err("-x"),
        "unable to parse requirement: <nil>: Invalid value: \"-x\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
    assert_eq!(
        label_err("x in (-a,-b)"),
        format!(
            "unable to parse requirement: [values[0][x]: Invalid value: \"-a\": {BAD_VALUE}, values[1][x]: Invalid value: \"-b\": {BAD_VALUE}]"
        )
    );
    assert!(
        label_err(&format!("a={}", "v".repeat(64))).contains("must be no more than 63 characters")
    );
    assert_eq!(
        label_err("x=a,"),
        "found '', expected: identifier after ','"
    );
    assert_eq!(
        label_err("x=a y"),
        "found 'y', expected: ',' or 'end of string'"
    );
    assert_eq!(
        label_err(",x"),
        "found ',', expected: !, identifier, or 'end of string'"
    );
    assert_eq!(
        label_err("x in a"),
        "unable to parse requirement: found 'a' expected: '('"
    );
    assert_eq!(
        label_err("x in (a"),
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
    assert_eq!(
        label_err("x in (a b)"),
        "unable to parse requirement: found 'b', expected: ',' or ')'"
    );
    assert_eq!(
        label_err("x in (="),
        "unable to parse requirement: found '=', expected: ',', ')' or identifier"
    );
    assert_eq!(
        label_err("x (a)"),
        "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
    );
    assert_eq!(
        label_err("x=(a)"),
        "unable to parse requirement: found '(', expected: identifier"
    );
    assert_eq!(
        label_err("!"),
        "unable to parse requirement: found '', expected: identifier"
    );
    assert_eq!(
        label_err("!x=a"),
        "found '=', expected: ',' or 'end of string'"
    );
    assert_eq!(
        label_err("x>a"),
        "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
    );
    assert!(matches!(
        LabelSelector::parse("=x"),
        Err(SelectorError::Label(_))
    ));
}

#[test]
fn label_exact_match_and_set() {
    let s = sel("a=1,b in (2),c in (3,4),d!=5");
    assert_eq!(s.requires_exact_match("a"), Some("1"));
    assert_eq!(s.requires_exact_match("b"), Some("2"));
    assert_eq!(s.requires_exact_match("c"), None);
    assert_eq!(s.requires_exact_match("d"), None);
    assert_eq!(s.requires_exact_match("e"), None);

    let set = labels(&[("b", "2"), ("a", "1")]);
    let s = LabelSelector::from_set(&set);
    assert_eq!(s.to_string(), "a=1,b=2");
    assert!(s.matches(&set));
    assert!(!s.matches(&labels(&[("a", "1")])));
    assert!(LabelSelector::from_set(&BTreeMap::new()).is_everything());
}

fn expr(key: &str, op: &str, values: Option<&[&str]>) -> metav1::LabelSelectorRequirement {
    metav1::LabelSelectorRequirement {
        key: key.to_string(),
        operator: op.to_string(),
        values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
    }
}

#[test]
fn metav1_selectors() {
    let nothing = LabelSelector::from_optional_meta(None).unwrap();
    assert!(nothing.is_nothing());
    assert!(!nothing.is_everything());
    assert!(!nothing.matches(&BTreeMap::new()));
    assert_eq!(nothing.to_string(), "");

    let empty = metav1::LabelSelector::default();
    assert!(LabelSelector::from_meta(&empty).unwrap().is_everything());
    assert!(LabelSelector::from_optional_meta(Some(&empty))
        .unwrap()
        .matches(&BTreeMap::new()));
    let empty_maps = metav1::LabelSelector {
        match_labels: Some(BTreeMap::new()),
        match_expressions: Some(vec![]),
    };
    assert!(LabelSelector::from_meta(&empty_maps)
        .unwrap()
        .is_everything());

    let full = metav1::LabelSelector {
        match_labels: Some(labels(&[("app", "web")])),
        match_expressions: Some(vec![
            expr("tier", "In", Some(&["front", "edge"])),
            expr("env", "NotIn", Some(&["prod"])),
            expr("canary", "DoesNotExist", None),
            expr("ready", "Exists", Some(&[])),
        ]),
    };
    let s = LabelSelector::from_meta(&full).unwrap();
    assert_eq!(
        s.to_string(),
        "app=web,!canary,env notin (prod),ready,tier in (edge,front)"
    );
    assert!(s.matches(&labels(&[("app", "web"), ("tier", "edge"), ("ready", "")])));
    assert!(!s.matches(&labels(&[
        ("app", "web"),
        ("tier", "edge"),
        ("ready", ""),
        ("canary", "1")
    ])));
    assert!(!s.matches(&labels(&[
        ("app", "web"),
        ("tier", "edge"),
        ("ready", ""),
        ("env", "prod")
    ])));
    assert!(!s.matches(&labels(&[("app", "web"), ("tier", "back"), ("ready", "")])));
}

#[test]
fn metav1_selector_errors() {
    let err = |e: metav1::LabelSelectorRequirement| {
        let s = metav1::LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![e]),
        };
        LabelSelector::from_meta(&s).unwrap_err().to_string()
    };
    assert_eq!(
        err(expr("a", "Equals", Some(&["x"]))),
        "\"Equals\" is not a valid label selector operator"
    );
    assert_eq!(
        err(expr("a", "In", None)),
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    );
    assert_eq!(
        err(expr("a", "NotIn", Some(&[]))),
        "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
    );
    assert_eq!(
        err(expr("a", "Exists", Some(&["x"]))),
        "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
    );
    assert!(err(expr("a/b/c", "Exists", None))
        .starts_with("key: Invalid value: \"a/b/c\": a qualified name must"));
    let bad_label = metav1::LabelSelector {
        match_labels: Some(labels(&[("app", "-x")])),
        match_expressions: None,
    };
    assert_eq!(
        LabelSelector::from_meta(&bad_label)
            .unwrap_err()
            .to_string(),
        format!("values[0][app]: Invalid value: \"-x\": {BAD_VALUE}")
    );
}

#[test]
fn selector_error_is_a_bad_request() {
    let e: ApiError = LabelSelector::parse("x in (a").unwrap_err().into();
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
}

fn fields<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |f| {
        pairs
            .iter()
            .find(|(k, _)| *k == f)
            .map(|(_, v)| v.to_string())
    }
}

fn fsel(s: &str) -> FieldSelector {
    match FieldSelector::parse(s) {
        Ok(x) => x,
        Err(e) => panic!("{s:?}: {e}"),
    }
}

#[test]
fn field_selectors_match() {
    let obj = [
        ("metadata.name", "web-1"),
        ("spec.nodeName", "n1"),
        ("status.phase", "Running"),
    ];
    for (s, want) in [
        ("", true),
        ("metadata.name=web-1", true),
        ("metadata.name==web-1", true),
        ("metadata.name=web-2", false),
        ("metadata.name!=web-2", true),
        ("spec.nodeName!=", true),
        ("spec.nodeName=", false),
        ("metadata.namespace=", true),
        ("metadata.namespace!=", false),
        ("status.phase=Running,spec.nodeName=n1", true),
        ("status.phase=Running,spec.nodeName=n2", false),
        (",metadata.name=web-1,", true),
    ] {
        assert_eq!(fsel(s).matches(fields(&obj)), want, "{s}");
    }
}

#[test]
fn field_selector_parsing() {
    let s = fsel("spec.nodeName!=,metadata.name==a\\,b\\=c\\\\d");
    // Terms are sorted as written; `==` prints as `=`; values are re-escaped.
    assert_eq!(
        s.to_string(),
        "metadata.name=a\\,b\\=c\\\\d,spec.nodeName!="
    );
    let reqs: Vec<_> = s.requirements().collect();
    assert_eq!(
        reqs,
        vec![
            ("metadata.name", FieldOperator::Equals, "a,b=c\\d"),
            ("spec.nodeName", FieldOperator::NotEquals, "")
        ]
    );
    assert_eq!(s.requires_exact_match("metadata.name"), Some("a,b=c\\d"));
    assert_eq!(s.requires_exact_match("spec.nodeName"), None);
    assert!(fsel("").is_everything());
    assert!(fsel("=").is_everything());
    assert_eq!(
        FieldSelector::one_term_equal("metadata.name", "x,y").to_string(),
        "metadata.name=x\\,y"
    );
    assert_eq!(escape_field_value("a\\b,c=d"), "a\\\\b\\,c\\=d");
    assert_eq!(unescape_field_value("a\\\\b\\,c\\=d").unwrap(), "a\\b,c=d");
}

#[test]
fn field_selector_errors() {
    let err = |s: &str| FieldSelector::parse(s).unwrap_err().to_string();
    assert_eq!(
        err("metadata.name"),
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
    );
    assert_eq!(
        err("a=b,c"),
        "invalid selector: 'a=b,c'; can't understand 'c'"
    );
    assert_eq!(
        err("a!b"),
        "invalid selector: 'a!b'; can't understand 'a!b'"
    );
    assert_eq!(
        err("a=b=c"),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        err("a!==b"),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        err("a=b\\x"),
        "invalid field selector: invalid escape sequence: \\x"
    );
    assert_eq!(
        err("a=b\\"),
        "invalid field selector: invalid escape sequence: \\"
    );
    assert!(matches!(
        FieldSelector::parse("x"),
        Err(SelectorError::Field(_))
    ));
}

#[test]
fn random_selectors_never_panic_and_round_trip() {
    const PIECES: &[&str] = &[
        "a",
        "b",
        "x.io/k",
        "in",
        "notin",
        "(",
        ")",
        ",",
        "=",
        "==",
        "!=",
        "!",
        ">",
        "<",
        " ",
        "\t",
        "1",
        "-1",
        "\\",
        "\\,",
        "\\=",
        "-",
        "_",
        ".",
        "é",
        "\0",
        "metadata.name",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        let mut s = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % 8) as usize;
        for _ in 0..n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
        }
        if let Ok(sel) = LabelSelector::parse(&s) {
            let canonical = sel.to_string();
            assert_eq!(
                LabelSelector::parse(&canonical).as_ref(),
                Ok(&sel),
                "{s:?} -> {canonical:?}"
            );
        }
        if let Ok(sel) = FieldSelector::parse(&s) {
            let _ = sel.matches(|f| Some(f.to_string()));
            let _ = sel.to_string();
        }
    }
}
