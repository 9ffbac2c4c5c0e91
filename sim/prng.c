/* prng.c: xoshiro256** seeded through splitmix64: the simulator's only source
 * of randomness (never rand(), never the clock). */
#include <string.h>

#include "sim.h"

static uint64_t splitmix64(uint64_t *state) {
    uint64_t value = (*state += 0x9e3779b97f4a7c15ULL);
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

void sim_prng_seed(struct sim_prng *prng, uint64_t seed) {
    uint64_t state = seed;
    for (int index = 0; index < 4; index++) prng->state[index] = splitmix64(&state);
}

static uint64_t rotate_left(uint64_t value, int bits) {
    return (value << bits) | (value >> (64 - bits));
}

uint64_t sim_prng_next(struct sim_prng *prng) {
    uint64_t *s = prng->state;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t shifted = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotate_left(s[3], 45);
    return result;
}

/* Lemire's multiply-shift; the tiny bias is irrelevant here. */
uint64_t sim_prng_below(struct sim_prng *prng, uint64_t bound) {
    if (bound <= 1) return 0;
    __extension__ typedef unsigned __int128 wide;
    return (uint64_t)(((wide)sim_prng_next(prng) * bound) >> 64);
}

int64_t sim_prng_range(struct sim_prng *prng, int64_t low, int64_t high) {
    if (high <= low) return low;
    return low + (int64_t)sim_prng_below(prng, (uint64_t)(high - low) + 1);
}

bool sim_prng_permille(struct sim_prng *prng, int permille) {
    return permille > 0 && (int)sim_prng_below(prng, 1000) < permille;
}

bool sim_seed_range_parse(const char *text, uint64_t *first, uint64_t *last) {
    const char *end = NULL;
    if (!lease_parse_unsigned(text, UINT64_MAX, first, &end)) return false;
    if (*end == '\0') {
        *last = *first;
        return true;
    }
    if (strncmp(end, "..", 2) != 0) return false;
    return lease_parse_unsigned(end + 2, UINT64_MAX, last, NULL) && *first <= *last;
}
