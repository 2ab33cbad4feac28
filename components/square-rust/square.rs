// square: an example avschain component in Rust (no crates), the twin of
// components/square. It reads a decimal integer from stdin (surrounding
// whitespace ignored, optional sign, any number of digits) and writes its
// square in decimal to stdout with no trailing newline. Input that is not an
// integer exits with status 1 (no vote).
//
// Build with Debian's toolchain (rustc 1.63 + libstd-rust-dev-wasm32):
//   PATH=/usr/bin:$PATH rustc --edition 2021 --target wasm32-wasi \
//     -C opt-level=s -C strip=symbols -o square-rust.wasm square.rs

use std::io::{Read, Write};
use std::process::exit;

const BASE: u64 = 1_000_000_000; // 9 decimal digits per limb

fn fail(msg: &str) -> ! {
    eprintln!("{}", msg);
    exit(1)
}

// parse returns the magnitude of s as little-endian base-1e9 limbs, or None
// if s is not [+-]?[0-9]+. The sign does not matter for a square.
fn parse(s: &str) -> Option<Vec<u64>> {
    let digits = s.strip_prefix('-').or_else(|| s.strip_prefix('+')).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let b = digits.as_bytes();
    let mut limbs = Vec::with_capacity(b.len() / 9 + 1);
    let mut end = b.len();
    while end > 0 {
        let start = end.saturating_sub(9);
        let mut v: u64 = 0;
        for &c in &b[start..end] {
            v = v * 10 + u64::from(c - b'0');
        }
        limbs.push(v);
        end = start;
    }
    Some(limbs)
}

fn square(a: &[u64]) -> Vec<u64> {
    // Each product is < 1e18 and the running carry keeps every cell < 2^64.
    let mut r = vec![0u64; 2 * a.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        let mut carry: u64 = 0;
        for (j, &y) in a.iter().enumerate() {
            let t = r[i + j] + x * y + carry;
            r[i + j] = t % BASE;
            carry = t / BASE;
        }
        let mut k = i + a.len();
        while carry > 0 {
            let t = r[k] + carry;
            r[k] = t % BASE;
            carry = t / BASE;
            k += 1;
        }
    }
    while r.len() > 1 && *r.last().unwrap() == 0 {
        r.pop();
    }
    r
}

fn format(limbs: &[u64]) -> String {
    let mut s = String::with_capacity(limbs.len() * 9);
    let mut it = limbs.iter().rev();
    if let Some(top) = it.next() {
        s.push_str(&top.to_string());
    }
    for l in it {
        s.push_str(&format!("{:09}", l));
    }
    s
}

fn main() {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        fail(&format!("square: reading input: {}", e));
    }
    let text = match std::str::from_utf8(&input) {
        Ok(t) => t.trim(),
        Err(_) => fail("square: input is not UTF-8 text"),
    };
    let n = match parse(text) {
        Some(n) => n,
        None => {
            let shown: String = text.chars().take(64).collect();
            fail(&format!("square: input {:?} is not a decimal integer", shown))
        }
    };
    let out = format(&square(&n));
    let mut stdout = std::io::stdout();
    if stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        fail("square: writing output failed");
    }
}
