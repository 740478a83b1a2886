package hvlab.cli;

/** Bad input from the user (a file, a size, a guest name): reported as one line and exit status 2. */
final class UserInputException extends RuntimeException {
    UserInputException(String message) {
        super(message, null, false, false);
    }
}
