package hvlab.hw.boot;

/** A kernel, module or firmware image cannot be booted; the message names the image and what is wrong with it. */
public final class BootImageException extends Exception {
    public BootImageException(String message) {
        super(message);
    }
}
