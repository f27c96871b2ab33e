// SPDX-License-Identifier: BSD-3-Clause
// Rust (rustc, static glibc): std::thread with channels and a mutex, catch_unwind, and with
// "panic" a panic that ends the program with status 101.
use std::panic;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let counter = Arc::new(Mutex::new(0u64));
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..8u64 {
        let c = Arc::clone(&counter);
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..1000 {
                *c.lock().unwrap() += 1;
            }
            tx.send(i).unwrap();
        }));
    }
    drop(tx);
    for h in handles {
        h.join().unwrap();
    }
    let sum: u64 = rx.iter().sum();
    println!("rust: 8 threads counted {}, sent {}", *counter.lock().unwrap(), sum);

    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(|| {
        panic!("inside catch_unwind");
    });
    let _ = panic::take_hook();
    println!("rust: catch_unwind caught a panic: {}", caught.is_err());

    let joined = thread::spawn(|| panic!("in a thread")).join();
    println!("rust: a thread's panic reached join: {}", joined.is_err());

    if std::env::args().nth(1).as_deref() == Some("panic") {
        panic!("on purpose");
    }
    println!("SUCCESS");
}
