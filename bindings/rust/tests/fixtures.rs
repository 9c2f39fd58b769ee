//! The safe wrapper against the repository's reference fixtures (tests/fixtures/README.md):
//! every tensor of all-types.gguf, to F32, F16 and BF16, byte for byte against ggml's own
//! dequantization (BF16: the F32 reference rounded to nearest even, computed here by the
//! definition), and the errors of bad files and misuse, with the C API's messages.
use gguftk::{sys, Model, Target, ValueType};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    std::env::var_os("GGUFTK_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures"))
}

fn open(name: &str) -> Model {
    Model::open(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A scratch directory of this test binary's own.
fn work_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gguftk-rust-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// float32 bits -> bfloat16 bits, round to nearest even, by the definition: of the two
/// bfloat16 values around x, the nearer; on a tie, the one with an even last bit. NaN: quiet.
fn bf16_by_definition(x: u32) -> u16 {
    if x & 0x7fff_ffff > 0x7f80_0000 {
        return ((x >> 16) | 0x40) as u16;
    }
    let lo = x & 0xffff_0000;
    if x == lo {
        return (lo >> 16) as u16;
    }
    let hi = lo + 0x1_0000; // next away from zero; may be infinity
    let dx = (f32::from_bits(x) as f64).abs();
    let dlo = (f32::from_bits(lo) as f64).abs();
    let dhi = if hi & 0x7fff_ffff == 0x7f80_0000 { 2f64.powi(128) } else { (f32::from_bits(hi) as f64).abs() };
    let pick = if dx - dlo < dhi - dx {
        lo
    } else if dx - dlo > dhi - dx {
        hi
    } else if (lo >> 16) & 1 == 1 {
        hi
    } else {
        lo
    };
    (pick >> 16) as u16
}

fn words32(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn words16(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

fn bits32(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

const POISON16: u16 = 0xa5a5;

#[test]
fn every_tensor_equals_the_references() {
    let (src, ref32, ref16) = (open("all-types.gguf"), open("all-types.ref-f32.gguf"), open("all-types.ref-f16.gguf"));
    let (mut decoded, mut integer) = (0, 0);
    for t in src.tensors() {
        let t = t.unwrap();
        let name = t.name().into_owned();
        assert_eq!(src.find_tensor(&name).unwrap().index(), t.index());
        assert_eq!(t.type_info().unwrap().name, t.type_name());
        if !t.type_info().unwrap().has_decoder {
            // I8..I64: refused, naming the type, nothing written.
            let mut dst = vec![f32::from_bits(0xa5a5_a5a5); t.n_elements() as usize];
            let e = t.dequantize_into(&mut dst, Target::F32).unwrap_err();
            assert_eq!(e.code(), sys::GGUFTK_ERR_UNSUPPORTED_TYPE);
            assert!(e.message().contains(t.type_name()), "{e}");
            assert!(dst.iter().all(|x| x.to_bits() == 0xa5a5_a5a5));
            integer += 1;
            continue;
        }
        let want32 = words32(ref32.find_tensor(&name).unwrap().data().unwrap());
        let want16 = words16(ref16.find_tensor(&name).unwrap().data().unwrap());
        let want_bf16: Vec<u16> = want32.iter().map(|&x| bf16_by_definition(x)).collect();
        assert_eq!(want32.len() as u64, t.n_elements());
        for threads in [1, 3, 0] {
            let mut f32s = vec![0f32; want32.len()];
            t.dequantize_into_threads(&mut f32s, Target::F32, threads).unwrap();
            assert!(bits32(&f32s) == want32, "{name} to F32, {threads} threads: not the reference's bytes");
        }
        assert!(t.to_bits(Target::F16).unwrap() == want16, "{name} to F16: not the reference's bytes");
        assert!(t.to_bits(Target::BF16).unwrap() == want_bf16, "{name} to BF16: not the reference's bytes");
        decoded += 1;
    }
    assert!(decoded >= 31, "{decoded} tensors decoded");
    assert_eq!(integer, 4);
}

#[test]
fn rows_and_blocks_equal_the_whole_tensor() {
    let m = open("all-types.gguf");
    for t in m.tensors().map(Result::unwrap).filter(|t| t.type_info().unwrap().has_decoder) {
        let whole = t.to_bits(Target::F16).unwrap();
        let row = t.shape()[0] as usize;
        let n_rows = t.n_rows();
        assert_eq!(n_rows as usize * row, whole.len());
        // Every row but the first, with room to spare that must stay untouched.
        let mut rows = vec![POISON16; whole.len() - row + 7];
        t.dequantize_rows(1, n_rows - 1, &mut rows, Target::F16).unwrap();
        assert!(rows[..whole.len() - row] == whole[row..], "{}: rows differ", t.name());
        assert!(rows[whole.len() - row..].iter().all(|&x| x == POISON16));

        let mut blocks = vec![0f32; whole.len()];
        gguftk::dequantize_blocks(t.ggml_type(), t.data().unwrap(), &mut blocks, Target::F32).unwrap();
        assert!(bits32(&blocks) == bits32(&t.to_f32().unwrap()), "{}: blocks differ", t.name());
    }
}

#[test]
fn shapes_in_gguf_and_row_major_order() {
    let m = open("all-types.gguf");
    let t = m.find_tensor("q4_K.3d").unwrap();
    assert_eq!(t.shape(), &[256, 3, 2]);
    assert_eq!(t.shape_row_major(), vec![2, 3, 256]);
    assert_eq!((t.n_elements(), t.n_rows()), (1536, 6));
    assert_eq!(m.find_tensor("q8_0.4d").unwrap().shape(), &[32, 2, 2, 2]);
    assert_eq!(m.find_tensor("f32.1d").unwrap().shape(), &[1024]);
    let w = m.find_tensor("q4_K.weight").unwrap();
    assert_eq!((w.type_name(), w.shape_row_major()), ("Q4_K", vec![4, 1024]));
    assert_eq!(w.data().unwrap().len() as u64, 4 * 1024 / 256 * 144);
    assert!(m.find_tensor("no.such.tensor").is_none());
    assert!(m.find_tensor("q4_K.weight\0").is_none());
}

#[test]
fn metadata_getters() {
    let m = open("all-types.gguf");
    assert_eq!(m.metadata_count(), 18);
    assert_eq!(m.metadata().count(), 18);
    let kv = |k: &str| m.find_key(k).unwrap_or_else(|| panic!("no {k}"));
    assert_eq!(kv("fixture.u8").uint(0).unwrap(), 200);
    assert_eq!(kv("fixture.i8").int(0).unwrap(), -100);
    assert_eq!(kv("fixture.u32").int(0).unwrap(), 4_000_000_000);
    assert_eq!(kv("fixture.u64").uint(0).unwrap(), 18_000_000_000_000_000_000);
    assert_eq!(kv("fixture.i64").int(0).unwrap(), -9_000_000_000_000_000_000);
    assert_eq!(kv("fixture.bool").uint(0).unwrap(), 1);
    assert_eq!(kv("fixture.f32").float(0).unwrap(), 3.25);
    assert_eq!(kv("fixture.f64").float(0).unwrap(), 2.718281828459045);
    assert_eq!(kv("fixture.string").string(0).unwrap(), "h\u{e9}llo \"quoted\"\ttab".as_bytes());
    assert_eq!(kv("general.architecture").string(0).unwrap(), b"fixture");

    let ai = kv("fixture.arr_i32");
    assert_eq!((ai.value_type(), ai.elem_type(), ai.count()), (ValueType::Array, ValueType::Int32, 5));
    assert_eq!(ai.key(), "fixture.arr_i32");
    let items: Vec<i64> = (0..5).map(|k| ai.int(k).unwrap()).collect();
    assert_eq!(items, [1, -2, 3, -4, 5]);
    assert_eq!(kv("fixture.arr_f32").float(2).unwrap(), 0.001f32 as f64);
    let strs: Vec<&[u8]> = (0..4).map(|k| kv("fixture.arr_str").string(k).unwrap()).collect();
    assert_eq!(strs, [&b"<s>"[..], b"</s>", b"", "\u{2581}the".as_bytes()]);
    assert_eq!(kv("fixture.arr_empty").count(), 0);

    // Conversions are exact or refused, with the C API's message.
    let e = ai.uint(1).unwrap_err();
    assert_eq!((e.code(), e.name()), (sys::GGUFTK_ERR_WRONG_VALUE_TYPE, "GGUFTK_ERR_WRONG_VALUE_TYPE"));
    assert!(!e.message().is_empty());
    assert_eq!(kv("fixture.string").uint(0).unwrap_err().code(), sys::GGUFTK_ERR_WRONG_VALUE_TYPE);
    assert_eq!(kv("fixture.u8").uint(1).unwrap_err().code(), sys::GGUFTK_ERR_OUT_OF_RANGE);
    assert!(m.find_key("fixture.u").is_none());
    assert!(m.find_key(b"fixture.u8\0").is_none()); // keys compare as bytes, length included
}

#[test]
fn bad_files_are_refused_with_the_libraries_message() {
    let work = work_dir("bad");
    let e = Model::open(work.join("no-such-file.gguf")).unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_IO);
    assert!(e.message().contains("no-such-file.gguf") && e.message().contains("No such file"), "{e}");
    assert!(Model::open(&work).unwrap_err().message().contains("not a regular file"));

    std::fs::write(work.join("not-gguf.bin"), b"GGUX\x03\0\0\0").unwrap();
    let e = Model::open(work.join("not-gguf.bin")).unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_BAD_FILE);
    assert!(e.to_string().contains("not a GGUF file (expected \"GGUF\") (at offset 0)"), "{e}");

    // Cut ten bytes into the first tensor's data.
    let good = std::fs::read(fixtures().join("all-types.gguf")).unwrap();
    let cut = open("all-types.gguf").tensor(0).unwrap().offset() as usize + 10;
    std::fs::write(work.join("truncated.gguf"), &good[..cut]).unwrap();
    let e = Model::open(work.join("truncated.gguf")).unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_BAD_FILE);
    assert!(e.message().contains("extends past the end of the file"), "{e}");

    let e = Model::open("a\0b.gguf").unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_INVALID_ARGUMENT);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn misuse_is_refused_and_nothing_written() {
    let m = open("all-types.gguf");
    let t = m.find_tensor("q4_K.weight").unwrap();
    let n = t.n_elements() as usize;

    let mut small = vec![POISON16; n - 1];
    let e = t.dequantize_into(&mut small, Target::F16).unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_DST_TOO_SMALL);
    assert!(small.iter().all(|&x| x == POISON16));

    let mut f32s = vec![0f32; n];
    assert_eq!(t.dequantize_into(&mut f32s, Target::BF16).unwrap_err().code(), sys::GGUFTK_ERR_INVALID_ARGUMENT);
    let mut u16s = vec![0u16; n];
    assert_eq!(t.dequantize_into(&mut u16s, Target::F32).unwrap_err().code(), sys::GGUFTK_ERR_INVALID_ARGUMENT);

    let e = t.dequantize_rows(3, 2, &mut u16s, Target::F16).unwrap_err();
    assert_eq!(e.code(), sys::GGUFTK_ERR_OUT_OF_RANGE);
    assert!(!e.message().is_empty());
    assert_eq!(m.tensor(m.tensor_count()).unwrap_err().code(), sys::GGUFTK_ERR_OUT_OF_RANGE);

    let blocks = t.data().unwrap();
    let e = gguftk::dequantize_blocks(t.ggml_type(), &blocks[..blocks.len() - 1], &mut f32s, Target::F32);
    assert_eq!(e.unwrap_err().code(), sys::GGUFTK_ERR_INVALID_ARGUMENT);
    assert_eq!(gguftk::type_info(31).unwrap_err().code(), sys::GGUFTK_ERR_UNSUPPORTED_TYPE);
}

/// One Model shared by threads (Send + Sync), each decoding every tensor: the same bytes as one
/// thread alone.
#[test]
fn threads_share_one_model() {
    let m = open("all-types.gguf");
    let decodable: Vec<_> = m.tensors().map(Result::unwrap).filter(|t| t.type_info().unwrap().has_decoder).collect();
    let alone: Vec<Vec<u16>> = decodable.iter().map(|t| t.to_bits(Target::BF16).unwrap()).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for (t, want) in decodable.iter().zip(&alone) {
                    assert!(&t.to_bits(Target::BF16).unwrap() == want);
                }
            });
        }
    });
    // And a Model moves to another thread, where it is dropped.
    let moved = open("all-types.gguf");
    std::thread::spawn(move || assert_eq!(moved.tensor_count(), m.tensor_count())).join().unwrap();
}

#[test]
fn version_is_the_librarys() {
    let v = gguftk::version();
    assert_eq!(v.split('.').count(), 3, "{v}");
    assert!(v.split('.').all(|p| p.parse::<u32>().is_ok()), "{v}");
}
