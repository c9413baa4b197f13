fn main() {
    spindle::main(|_| Ok(()))
}
