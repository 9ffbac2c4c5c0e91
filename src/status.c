/*
 * status.c: the status table, result housekeeping, and the text helpers that
 * keep a lease file's contents from corrupting a terminal.
 */
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

static const char *const status_names[] = {
#define STATUS_NAME(name, string, exit_code) string,
    LEASE_STATUS_TABLE(STATUS_NAME)
#undef STATUS_NAME
};

static const int status_exit_codes[] = {
#define STATUS_EXIT(name, string, exit_code) exit_code,
    LEASE_STATUS_TABLE(STATUS_EXIT)
#undef STATUS_EXIT
};

const char *lease_status_name(enum lease_status status) {
    if ((unsigned)status >= LEASE_STATUS_COUNT) return "unknown";
    return status_names[status];
}

int lease_status_exit_code(enum lease_status status) {
    if ((unsigned)status >= LEASE_STATUS_COUNT) return 125;
    return status_exit_codes[status];
}

bool lease_status_from_name(const char *name, enum lease_status *status) {
    for (int index = 0; index < LEASE_STATUS_COUNT; index++) {
        if (strcmp(status_names[index], name) == 0) {
            *status = (enum lease_status)index;
            return true;
        }
    }
    return false;
}

bool lease_status_is_acquired(enum lease_status status) {
    return status == LEASE_STATUS_ACQUIRED || status == LEASE_STATUS_ACQUIRED_AFTER_STALE ||
           status == LEASE_STATUS_ACQUIRED_AFTER_MALFORMED;
}

void lease_result_clear(struct lease_result *result) {
    if (result == NULL) return;
    lease_free(result->payload_json);
    memset(result, 0, sizeof *result);
}

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

size_t lease_format_error(const struct lease_result *result, char *buffer, size_t size) {
    char detail[LEASE_DETAIL_MAX * 4 + 1];
    if (size == 0) return 0;
    const char *system_error = result->error_number != 0 ? strerror(result->error_number) : "failed";
    lease_escape_text(result->detail, detail, sizeof detail);
    /* The default detail repeats the system error: say it once. */
    bool says_more = detail[0] != '\0' && strstr(detail, system_error) == NULL;
    int length =
        snprintf(buffer, size, "%s: %s%s%s%s", result->error_operation != NULL ? result->error_operation : "lease",
                 system_error, says_more ? " (" : "", says_more ? detail : "", says_more ? ")" : "");
    if (length < 0) {
        buffer[0] = '\0';
        return 0;
    }
    return (size_t)length < size ? (size_t)length : size - 1;
}

size_t lease_format_deferral(const struct lease_result *result, char *buffer, size_t size) {
    char owner[LEASE_TEXT_MAX * 4];
    char reason[LEASE_TEXT_MAX * 4];
    char pid[LEASE_TEXT_MAX * 4];
    char acquired_at[LEASE_TEXT_MAX * 4];
    if (size == 0) return 0;
    if (result->has_lease) {
        lease_escape_text(result->lease.owner, owner, sizeof owner);
        lease_escape_text(result->lease.reason, reason, sizeof reason);
        lease_escape_text(result->lease.pid_text, pid, sizeof pid);
        lease_escape_text(result->lease.acquired_at, acquired_at, sizeof acquired_at);
    } else {
        /* Hazard 7: held, but the holder could not be read. Say so plainly. */
        strcpy(owner, "unknown");
        strcpy(reason, "unknown");
        strcpy(pid, "unknown");
        strcpy(acquired_at, "unknown");
    }
    int length = snprintf(buffer, size,
                          "\u23F8\uFE0F  Deferred: heavy-maintenance lease held by '%s' (reason='%s', pid=%s, "
                          "acquiredAt=%s).\n"
                          "   This script will not run while another heavy-maintenance task is active.\n",
                          owner, reason, pid, acquired_at);
    if (length < 0) {
        buffer[0] = '\0';
        return 0;
    }
    return (size_t)length < size ? (size_t)length : size - 1;
}
