package hvlab.cli.bench;

/** Console text for failure messages. */
final class Consoles {
    private Consoles() {
    }

    /** The last non-blank line of a console, or "(empty)": usually the line that says what went wrong. */
    static String lastLine(String console) {
        return console.lines().filter(line -> !line.isBlank()).reduce((first, second) -> second).orElse("(empty)");
    }
}
