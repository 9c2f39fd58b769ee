//! Dequantize on load: every tensor of a GGUF model as F16 in one buffer, the way an engine's
//! loader fills its weights, with no intermediate file (the Rust twin of
//! examples/dequantize_on_load.c).
//!
//!     cargo run --release --example dequantize_on_load -- model.gguf [weights.f16]
//!
//! Lays the tensors out first (each at a 64-byte boundary, 32 F16 values), then fills the buffer
//! tensor by tensor, each tensor's blocks split across every core. Integer tensors (I8..I64)
//! hold data, not weights: an engine copies those as they are (Tensor::data); they are skipped.
//! With weights.f16, the FP16 values are also written there, tensor after tensor in file order
//! (without the alignment gaps): what the installed-package test compares with ggml's.
use gguftk::{Model, Target};
use std::process::ExitCode;
use std::time::Instant;

/// 64 bytes of F16.
const ALIGN: usize = 32;

fn load(path: &str, out: Option<&str>) -> gguftk::Result<()> {
    let model = Model::open(path)?;
    let mut layout = Vec::new(); // (tensor, first element in the buffer)
    let mut total = 0usize;
    for t in model.tensors() {
        let t = t?;
        if t.type_info()?.has_decoder {
            total = (total + ALIGN - 1) / ALIGN * ALIGN;
            layout.push((t, total));
            total += t.n_elements() as usize;
        }
    }
    let mut weights = vec![0u16; total];

    let start = Instant::now();
    for (t, at) in &layout {
        t.dequantize_into(&mut weights[*at..*at + t.n_elements() as usize], Target::F16)?;
    }
    let secs = start.elapsed().as_secs_f64();

    println!(
        "{} of {} tensors loaded as FP16: {:.1} MB in {secs:.3} s (libgguftk {})",
        layout.len(),
        model.tensor_count(),
        (total * 2) as f64 / 1e6,
        gguftk::version()
    );
    for (t, at) in layout.iter().take(3) {
        println!("  {:<24} {:<7} first value {:#06x} (FP16 bits)", t.name(), t.type_name(), weights[*at]);
    }
    if let Some(out) = out {
        let mut bytes = Vec::with_capacity(total * 2);
        for (t, at) in &layout {
            for v in &weights[*at..*at + t.n_elements() as usize] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        if let Err(e) = std::fs::write(out, bytes) {
            eprintln!("error: cannot write {out}: {e}");
            std::process::exit(1);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 && args.len() != 3 {
        eprintln!("usage: {} model.gguf [weights.f16]", args[0]);
        return ExitCode::from(2);
    }
    match load(&args[1], args.get(2).map(String::as_str)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", e.name());
            ExitCode::FAILURE
        }
    }
}
