/*
 * timefmt.c: ISO-8601 timestamps of the lease file, by hand on purpose: the
 * conversion is pure arithmetic (no time zone database, no locale, no
 * gmtime_r), so the simulator and the real world format identically.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

#define MS_PER_SECOND 1000LL
#define MS_PER_DAY 86400000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t year, int month, int day) {
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, int *month, int *day) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

void lease_time_format(int64_t epoch_ms, char buffer[LEASE_TIMESTAMP_SIZE]) {
    int64_t days = epoch_ms / MS_PER_DAY;
    int64_t rest_ms = epoch_ms % MS_PER_DAY;
    if (rest_ms < 0) {
        rest_ms += MS_PER_DAY;
        days -= 1;
    }
    int64_t year;
    int month;
    int day;
    civil_from_days(days, &year, &month, &day);
    if (year < 0 || year > 9999) year = year < 0 ? 0 : 9999; /* keep the fixed width */
    /* "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", digit by digit (every field is
     * in range here; this runs on every acquire and renew) */
    const int fields[] = {(int)year,
                          month,
                          day,
                          (int)(rest_ms / 3600000),
                          (int)(rest_ms / 60000 % 60),
                          (int)(rest_ms / 1000 % 60),
                          (int)(rest_ms % 1000)};
    static const int widths[] = {4, 2, 2, 2, 2, 2, 3};
    static const char separators[] = "--T::.Z";
    char text[LEASE_TIMESTAMP_SIZE];
    _Static_assert(LEASE_TIMESTAMP_SIZE >= 25, "YYYY-MM-DDTHH:MM:SS.mmmZ and a NUL");
    size_t used = 0;
    for (size_t field = 0; field < sizeof widths / sizeof widths[0]; field++) {
        int value = fields[field];
        for (int digit = widths[field] - 1; digit >= 0; digit--, value /= 10)
            text[used + (size_t)digit] = (char)('0' + value % 10);
        used += (size_t)widths[field];
        text[used++] = separators[field];
    }
    text[used] = '\0';
    memcpy(buffer, text, used + 1);
}

/* Reads exactly count digits; false when any is not a digit. */
static bool read_digits(const char **cursor, int count, int *value) {
    int result = 0;
    for (int index = 0; index < count; index++) {
        char digit = (*cursor)[index];
        if (!isdigit((unsigned char)digit)) return false;
        result = result * 10 + (digit - '0');
    }
    *cursor += count;
    *value = result;
    return true;
}

static bool expect(const char **cursor, char character) {
    if (**cursor != character) return false;
    (*cursor)++;
    return true;
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* The zone suffix: Z, +HH:MM, -HH:MM, +HHMM or -HHMM. */
static bool parse_zone(const char *cursor, int64_t *offset_ms) {
    if (*cursor == 'Z' || *cursor == 'z') {
        *offset_ms = 0;
        return cursor[1] == '\0';
    }
    if (*cursor != '+' && *cursor != '-') return false;
    int sign = *cursor == '-' ? -1 : 1;
    cursor++;
    int hours;
    int minutes;
    if (!read_digits(&cursor, 2, &hours)) return false;
    if (*cursor == ':') cursor++;
    if (!read_digits(&cursor, 2, &minutes)) return false;
    if (*cursor != '\0' || hours > 23 || minutes > 59) return false;
    *offset_ms = sign * (hours * 3600000LL + minutes * 60000LL);
    return true;
}

bool lease_time_parse(const char *text, int64_t *epoch_ms) {
    const char *cursor = text;
    int year, month, day, hour, minute, second;
    if (!read_digits(&cursor, 4, &year) || !expect(&cursor, '-') || !read_digits(&cursor, 2, &month) ||
        !expect(&cursor, '-') || !read_digits(&cursor, 2, &day))
        return false;
    if (*cursor != 'T' && *cursor != 't' && *cursor != ' ') return false;
    cursor++;
    if (!read_digits(&cursor, 2, &hour) || !expect(&cursor, ':') || !read_digits(&cursor, 2, &minute) ||
        !expect(&cursor, ':') || !read_digits(&cursor, 2, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 59)
        return false;
    int64_t fraction_ms = 0;
    if (*cursor == '.') {
        cursor++;
        int digits = 0;
        int64_t scale = 100;
        /* Any number of fraction digits; beyond milliseconds they are cut. */
        while (isdigit((unsigned char)*cursor) && digits < 64) {
            fraction_ms += (*cursor - '0') * scale;
            scale /= 10;
            cursor++;
            digits++;
        }
        if (digits == 0 || isdigit((unsigned char)*cursor)) return false;
    }
    int64_t offset_ms;
    if (!parse_zone(cursor, &offset_ms)) return false;
    int64_t days = days_from_civil(year, month, day);
    *epoch_ms =
        days * MS_PER_DAY + hour * 3600000LL + minute * 60000LL + second * MS_PER_SECOND + fraction_ms - offset_ms;
    return true;
}
