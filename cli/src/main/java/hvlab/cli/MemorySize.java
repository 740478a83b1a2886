package hvlab.cli;

import picocli.CommandLine;

import java.util.Locale;

/** Parses sizes such as {@code 64M}, {@code 1G}, {@code 512K} or plain bytes, as QEMU's {@code -m} does. */
final class MemorySize implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        }
        switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'K' -> unit = 1L << 10;
            case 'M' -> unit = 1L << 20;
            case 'G' -> unit = 1L << 30;
            default -> { }
        }
        if (unit != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long value = Long.parseLong(s) * unit;
            if (value <= 0) {
                throw new CommandLine.TypeConversionException("a memory size must be positive: '" + text + "'");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("not a memory size: '" + text + "' (use e.g. 64M or 1G)");
        }
    }
}
