//! The hand-written declarations of `sys` against the C header they transcribe: every function
//! and constant of gguftk.h is declared (and nothing else), each function's type in C is the one
//! the Rust declaration spells, the constants have the header's values, and the public structs
//! have its sizes, alignments and field offsets. The C side is compiled by the system's C
//! compiler (CC, else cc) against the header build.rs found, so nothing is taken on trust.
use gguftk::sys;
use std::collections::BTreeSet;
use std::mem::{align_of, size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

fn header_text() -> String {
    let path = PathBuf::from(env!("GGUFTK_INCLUDE_DIR")).join("gguftk/gguftk.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The names of the functions the header declares: the identifier before the first `(` after
/// each GGUFTK_API that is not its #define.
fn header_functions(h: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in h.match_indices("GGUFTK_API") {
        let line_start = h[..at].rfind('\n').map_or(0, |i| i + 1);
        if h[line_start..at].contains("#define") {
            continue;
        }
        let decl = &h[at..at + h[at..].find('(').unwrap()];
        let name: String = decl.chars().rev().take_while(|&c| is_ident(c)).collect::<Vec<_>>().into_iter().rev().collect();
        names.insert(name);
    }
    names
}

/// The enumerators: every GGUFTK_* identifier followed by `=`.
fn header_constants(h: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in h.match_indices("GGUFTK_") {
        if at > 0 && is_ident(h[..at].chars().last().unwrap()) {
            continue;
        }
        let name: String = h[at..].chars().take_while(|&c| is_ident(c)).collect();
        if h[at + name.len()..].trim_start().starts_with('=') {
            names.insert(name);
        }
    }
    names
}

/// The typedef'd structs: `} gguftk_xxx;` after a `typedef struct {`.
fn header_structs(h: &str) -> BTreeSet<String> {
    h.split("typedef struct {")
        .skip(1)
        .map(|body| {
            let after = &body[body.find('}').unwrap() + 1..];
            after.trim_start().chars().take_while(|&c| is_ident(c)).collect()
        })
        .collect()
}

/// A Rust type of the declarations as C spells it ("east const": `*const T` is `T const *`).
fn c_type(rust: &str) -> String {
    let t = rust.trim();
    if let Some(rest) = t.strip_prefix("*const") {
        return format!("{} const *", c_type(rest));
    }
    if let Some(rest) = t.strip_prefix("*mut") {
        return format!("{} *", c_type(rest));
    }
    let base = match t {
        "" => "void",
        "c_void" => "void",
        "c_char" => "char",
        "c_int" => "int",
        "u32" => "uint32_t",
        "u64" => "uint64_t",
        "i64" => "int64_t",
        "usize" => "size_t",
        "f64" => "double",
        other if other.starts_with("gguftk_") => other,
        other => panic!("no C spelling for the Rust type {other}"),
    };
    base.to_string()
}

struct Layout {
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(&'static str, usize)>,
}

macro_rules! layout {
    ($t:ident { $($f:ident),* }) => {{
        let u = MaybeUninit::<sys::$t>::uninit();
        let base = u.as_ptr() as usize;
        Layout {
            name: stringify!($t),
            size: size_of::<sys::$t>(),
            align: align_of::<sys::$t>(),
            fields: vec![$((
                stringify!($f).trim_start_matches("r#"),
                unsafe { std::ptr::addr_of!((*u.as_ptr()).$f) } as usize - base,
            )),*],
        }
    }};
}

fn layouts() -> Vec<Layout> {
    vec![
        layout!(gguftk_tensor_info { name, r#type, type_name, n_dims, ne, n_elements, offset, size, name_len }),
        layout!(gguftk_type_info { name, block_elems, block_bytes, has_decoder }),
        layout!(gguftk_kv_info { key, key_len, r#type, elem_type, count }),
    ]
}

/// A C program that fails to compile on a function whose type differs from the Rust
/// declaration's, and prints the constants and layouts as the C compiler sees them.
fn c_program() -> String {
    let mut c = String::from("#include <gguftk/gguftk.h>\n#include <stddef.h>\n#include <stdio.h>\n\n");
    for (name, ret, args) in sys::SIGNATURES {
        let args: Vec<String> = args.iter().map(|a| c_type(a)).collect();
        let args = if args.is_empty() { "void".to_string() } else { args.join(", ") };
        c += &format!(
            "_Static_assert(__builtin_types_compatible_p(__typeof__(&{name}), {} (*)({args})), \"{name}: the Rust declaration differs\");\n",
            c_type(ret)
        );
    }
    c += "\nint main(void) {\n";
    for (name, _) in sys::CONSTANTS {
        c += &format!("    printf(\"{name} %lld\\n\", (long long){name});\n");
    }
    for l in layouts() {
        let n = l.name;
        c += &format!("    printf(\"{n} %zu %zu\\n\", sizeof({n}), _Alignof({n}));\n");
        for (f, _) in &l.fields {
            c += &format!("    printf(\"{n}.{f} %zu\\n\", offsetof({n}, {f}));\n");
        }
    }
    c + "    return 0;\n}\n"
}

/// What the C program prints for the Rust side's own values.
fn rust_view() -> String {
    let mut s = String::new();
    for (name, value) in sys::CONSTANTS {
        s += &format!("{name} {value}\n");
    }
    for l in layouts() {
        s += &format!("{} {} {}\n", l.name, l.size, l.align);
        for (f, off) in &l.fields {
            s += &format!("{}.{f} {off}\n", l.name);
        }
    }
    s
}

#[test]
fn every_function_and_constant_of_the_header_is_declared() {
    let h = header_text();
    let declared: BTreeSet<String> = sys::SIGNATURES.iter().map(|s| s.0.to_string()).collect();
    assert_eq!(declared, header_functions(&h), "functions: sys (left) vs gguftk.h (right)");
    assert!(declared.len() >= 24);
    let constants: BTreeSet<String> = sys::CONSTANTS.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(constants, header_constants(&h), "constants: sys (left) vs gguftk.h (right)");
    let structs: BTreeSet<String> = layouts().iter().map(|l| l.name.to_string()).collect();
    assert_eq!(structs, header_structs(&h), "structs: sys (left) vs gguftk.h (right)");
    // Every declared function resolves in the library linked.
    assert!(sys::addresses().iter().all(|&(_, a)| a != 0));
}

#[test]
fn declarations_compile_against_the_header_and_match_its_layouts() {
    let dir = std::env::temp_dir().join(format!("gguftk-rust-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, exe) = (dir.join("check.c"), dir.join("check"));
    std::fs::write(&src, c_program()).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-I", env!("GGUFTK_INCLUDE_DIR"), "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(out.status.success(), "{cc} refused the declarations:\n{}", String::from_utf8_lossy(&out.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    assert_eq!(String::from_utf8(run.stdout).unwrap(), rust_view(), "C's view (left) vs Rust's (right)");
    std::fs::remove_dir_all(&dir).unwrap();
}
