fn main() {
    std::process::exit(plonk::cli::main());
}
