/* A program outside the project that links the installed library through
 * pkg-config: acquires, inspects, releases. Exit 0 when all three worked. */
#include <lease.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: example LEASE_PATH\n");
        return 64;
    }
    struct lease_options options = {.path = argv[1], .owner = "example"};
    struct lease_result result = {0};
    if (!lease_status_is_acquired(lease_acquire(NULL, NULL, &options, &result))) {
        fprintf(stderr, "acquire: %s (%s)\n", lease_status_name(result.status), result.detail);
        return 1;
    }
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", result.lease.token);
    lease_result_clear(&result);
    enum lease_status inspected = lease_inspect(NULL, NULL, &options, &result);
    lease_result_clear(&result);
    enum lease_status released = lease_release(NULL, NULL, &options, token, &result);
    lease_result_clear(&result);
    printf("%s %s %s\n", "acquired", lease_status_name(inspected), lease_status_name(released));
    return inspected == LEASE_STATUS_ACTIVE && released == LEASE_STATUS_RELEASED ? 0 : 1;
}
