package hvlab.hw.device.cmos;

/**
 * Proleptic Gregorian day arithmetic without allocation (the days-from-civil algorithm published by Howard
 * Hinnant): day 0 is 1970-01-01, a Thursday.
 */
final class CivilCalendar {
    static final int SECONDS_PER_DAY = 86_400;
    private static final int DAYS_PER_ERA = 146_097;
    private static final int DAYS_FROM_0000_03_01_TO_EPOCH = 719_468;

    private CivilCalendar() {
    }

    /** Day number of a date; a day beyond its month's end rolls into the next month. */
    static long daysFromCivil(long year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yearOfEra = y - era * 400;
        long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * DAYS_PER_ERA + dayOfEra - DAYS_FROM_0000_03_01_TO_EPOCH;
    }

    /** The date of a day number, packed as year << 9 | month << 5 | day. */
    static long civilFromDays(long days) {
        long z = days + DAYS_FROM_0000_03_01_TO_EPOCH;
        long era = Math.floorDiv(z, DAYS_PER_ERA);
        long dayOfEra = z - era * DAYS_PER_ERA;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long shiftedMonth = (5 * dayOfYear + 2) / 153;
        long day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1;
        long month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        return year << 9 | month << 5 | day;
    }

    static int year(long packed) {
        return (int) (packed >> 9);
    }

    static int month(long packed) {
        return (int) (packed >> 5 & 0xF);
    }

    static int day(long packed) {
        return (int) (packed & 0x1F);
    }

    /** 1 = Sunday ... 7 = Saturday, as the MC146818 counts. */
    static int dayOfWeek(long days) {
        return Math.floorMod(days + 4, 7) + 1;
    }
}
