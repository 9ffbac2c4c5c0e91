/*
 * text.c: text that comes from a lease file or a caller: the one UTF-8
 * validator, bounded copies, the escaping that keeps a file's contents from
 * corrupting a terminal (docs/spec.md section 9.1), and the one parser of the
 * numbers people write.
 */
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

/* Length of the valid UTF-8 sequence at text (1..4), or 0 when invalid.
 * Overlong forms and surrogates are rejected so that escaping is total. */
static size_t utf8_sequence_length(const unsigned char *text) {
    unsigned char lead = text[0];
    size_t length;
    unsigned minimum;
    unsigned code;
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, minimum = 0x80, code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, minimum = 0x800, code = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, minimum = 0x10000, code = lead & 0x07;
    } else {
        return 0;
    }
    for (size_t index = 1; index < length; index++) {
        if ((text[index] & 0xC0) != 0x80) return 0;
        code = (code << 6) | (text[index] & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    /* C1 controls (U+0080..U+009F) can act as terminal escapes too. */
    if (code >= 0x80 && code <= 0x9F) return 0;
    /* Bidirectional controls reorder what a terminal shows ("admin\u202Eexe.txt"
     * reads reversed): escaped and refused like controls. */
    if (code == 0x061C || code == 0x200E || code == 0x200F || (code >= 0x202A && code <= 0x202E) ||
        (code >= 0x2066 && code <= 0x2069))
        return 0;
    return length;
}

bool lease_text_is_clean(const char *text) {
    const unsigned char *cursor = (const unsigned char *)text;
    /* Bounded by the string: each step consumes at least one byte. */
    while (*cursor != '\0') {
        size_t length = utf8_sequence_length(cursor);
        if (length == 0 || (length == 1 && (*cursor < 0x20 || *cursor == 0x7F))) return false;
        cursor += length;
    }
    return true;
}

bool lease_copy_text(char *buffer, size_t size, const char *source) {
    if (size == 0) return source[0] != '\0';
    size_t length = strlen(source);
    if (length < size) {
        memcpy(buffer, source, length + 1);
        return false;
    }
    size_t cut = size - 1;
    /* Step back over continuation bytes so the copy ends on a boundary. */
    while (cut > 0 && ((unsigned char)source[cut] & 0xC0) == 0x80) cut--;
    memcpy(buffer, source, cut);
    buffer[cut] = '\0';
    return true;
}

void lease_escape_text(const char *text, char *buffer, size_t size) {
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;
    if (size == 0) return;
    const unsigned char *cursor = (const unsigned char *)text;
    while (*cursor != '\0') {
        size_t length = utf8_sequence_length(cursor);
        bool printable = length > 1 || (length == 1 && *cursor >= 0x20 && *cursor != 0x7F && *cursor != '\\');
        if (printable) {
            if (out + length >= size) break;
            memcpy(buffer + out, cursor, length);
            out += length;
            cursor += length;
        } else if (*cursor == '\\') {
            if (out + 2 >= size) break;
            buffer[out++] = '\\';
            buffer[out++] = '\\';
            cursor++;
        } else {
            if (out + 4 >= size) break;
            buffer[out++] = '\\';
            buffer[out++] = 'x';
            buffer[out++] = hex[*cursor >> 4];
            buffer[out++] = hex[*cursor & 0x0F];
            cursor++;
        }
    }
    buffer[out] = '\0';
}

bool lease_parse_unsigned(const char *text, uint64_t maximum, uint64_t *value, const char **end) {
    if (text == NULL || *text < '0' || *text > '9') return false;
    uint64_t total = 0;
    const char *cursor = text;
    for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
        unsigned digit = (unsigned)(*cursor - '0');
        if (total > (maximum - digit) / 10) return false;
        total = total * 10 + digit;
    }
    if (end != NULL)
        *end = cursor;
    else if (*cursor != '\0')
        return false;
    *value = total;
    return true;
}

bool lease_parse_integer(const char *text, int64_t minimum, int64_t maximum, int64_t *value) {
    if (text == NULL || minimum > maximum) return false;
    bool negative = text[0] == '-' && minimum < 0;
    uint64_t magnitude;
    /* The magnitude of INT64_MIN is INT64_MAX + 1. */
    uint64_t largest = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)(maximum < 0 ? 0 : maximum);
    if (!lease_parse_unsigned(text + (negative ? 1 : 0), largest, &magnitude, NULL)) return false;
    int64_t parsed =
        negative ? (magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude) : (int64_t)magnitude;
    if (parsed < minimum || parsed > maximum) return false;
    *value = parsed;
    return true;
}
