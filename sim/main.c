/*
 * main.c: the leasesim command line (docs/spec.md section 8): parses the
 * arguments (cli_args.c) and hands over to one mode: campaigns, shards and
 * their merge, determinism (cli_campaign.c), exhaustive search
 * (cli_exhaustive.c), scenario verdicts (cli_check.c), the bug zoo
 * (cli_zoo.c), the benchmark figures (cli_bench.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exec/exec.h"
#include "alloc.h"
#include "plan.h"
#include "scenario.h"
#include "traits.h"

/* Under AddressSanitizer, the exec mode ends with _exit: LeakSanitizer's
 * check at exit stops the world by ptrace from a helper task, which cannot
 * attach to a controller that is a subreaper with children in a pid
 * namespace, and spins there forever. The exec mode's memory is checked by
 * ASan while it runs; only the leak report at exit is given up. */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_EXEC_EXIT_WITHOUT_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_EXEC_EXIT_WITHOUT_LEAK_CHECK 1
#endif
#endif

static int exec_mode(int argc, char **argv) {
    int status = sim_exec_main(argc, argv);
#ifdef SIM_EXEC_EXIT_WITHOUT_LEAK_CHECK
    fflush(NULL);
    _exit(status);
#endif
    return status;
}

/* --mix: known names, and only where plans are drawn. */
static int check_mix(const struct cli *cli) {
    if (cli->request.mix == NULL) return 0;
    if (cli->scenario_path != NULL)
        return usage_error("--mix draws for random plans: a scenario names each program's implementation (impl NAME)",
                           NULL);
    if (cli->request.strategy == SIM_STRATEGY_EXHAUSTIVE) return usage_error("--mix is not for exhaustive mode", NULL);
    char copy[256];
    lease_copy_text(copy, sizeof copy, cli->request.mix);
    for (char *cursor = copy, *word; (word = strsep(&cursor, ",")) != NULL;) {
        const struct lease_ops *ops = sim_impl_find(word);
        if (ops == NULL) return usage_error("unknown implementation in --mix (see --list-impls)", word);
        if (sim_traits_of(ops).outside_the_world)
            return usage_error("--mix: this implementation keeps its lease outside the simulated world", word);
    }
    return 0;
}

/* The campaign, or one per --scenario in turn (the first is loaded already):
 * an error ends them; else 1 when any had a violation. */
static int run_campaigns(struct cli *cli) {
    int worst = sim_cli_campaign(cli);
    for (int index = 1; index < cli->scenario_count && worst <= 1; index++) {
        char error[512];
        cli->scenario_path = cli->scenario_paths[index];
        if (sim_scenario_load(cli->scenario_path, &cli->scenario, error, sizeof error) != 0)
            return usage_error("cannot read the scenario", error);
        int status = sim_cli_campaign(cli);
        if (status > worst) worst = status;
    }
    return worst;
}

/* Several --scenario files: campaigns only, each writing nothing the next would overwrite. */
static int check_several_scenarios(const struct cli *cli) {
    if (cli->scenario_count <= 1) return 0;
    if (cli->check || cli->bench || cli->zoo || cli->determinism)
        return usage_error("several --scenario files are for campaigns, not --check, --bench, --zoo or --determinism",
                           NULL);
    if (cli->request.strategy == SIM_STRATEGY_EXHAUSTIVE)
        return usage_error("several --scenario files are not for exhaustive mode", NULL);
    if (cli->trace_path != NULL || cli->svg_path != NULL || cli->html_path != NULL || cli->summary_path != NULL)
        return usage_error("--trace, --svg, --html and --summary take one --scenario", NULL);
    return 0;
}

int main(int argc, char **argv) {
    for (int index = 1; index < argc; index++) /* real processes: sim/exec/ */
        if (strcmp(argv[index], "--exec") == 0) return exec_mode(argc, argv);
    static struct cli cli = {.impl_name = "lease", .shard_index = 1, .shard_count = 1, .strategy_name = "pos"};
    cli.argv0 = argv[0];
    cli.request.strategy = SIM_STRATEGY_POS; /* docs/spec.md 9.11: it catches the zoo in fewest seeds */
    cli.request.pct_depth = 3;
    sim_alloc_install();
    int status = parse_arguments(&cli, argc, argv);
    if (status != 0) return status;
    if (cli.list_impls) {
        for (size_t index = 0; index < lease_impl_count(); index++)
            printf("%-26s %s\n", lease_impl_name(lease_impl_at(index)), lease_impl_description(lease_impl_at(index)));
        for (size_t index = 0; index < zoo_count(); index++)
            printf("%-26s %s\n", zoo_at(index)->name, zoo_at(index)->description);
        return 0;
    }
    if (cli.merge_count > 0) return run_merge(&cli);
    cli.request.ops = sim_impl_find(cli.impl_name);
    if (cli.request.ops == NULL) return usage_error("unknown implementation (see --list-impls)", cli.impl_name);
    cli.request.traits = sim_traits_for(cli.impl_name);
    if (cli.request.traits.outside_the_world)
        return usage_error(
            "this implementation keeps its lease outside the simulated world (its suites: make test-etcd, make "
            "test-multihost)",
            cli.impl_name);
    int mix = check_mix(&cli);
    if (mix != 0) return mix;
    int several = check_several_scenarios(&cli);
    if (several != 0) return several;
    if (cli.scenario_path != NULL) {
        char error[512];
        if (sim_scenario_load(cli.scenario_path, &cli.scenario, error, sizeof error) != 0)
            return usage_error("cannot read the scenario", error);
        cli.request.scenario = &cli.scenario;
    }
    if (cli.bench) return sim_cli_bench(&cli);
    if (cli.zoo) return sim_cli_zoo(&cli);
    if (cli.check) return cli.scenario_path ? sim_cli_check(&cli) : usage_error("--check needs --scenario", NULL);
    if (!cli.has_seeds) return usage_error("give --seed N or --seeds A..B", NULL);
    cli.request.first_seed = cli.first;
    if (cli.determinism) return run_determinism(&cli);
    if (cli.request.strategy == SIM_STRATEGY_EXHAUSTIVE &&
        (cli.trace_path != NULL || cli.svg_path != NULL || cli.html_path != NULL))
        return usage_error("--trace, --svg and --html are not written in exhaustive mode (replay a seed of another "
                           "strategy)",
                           NULL);
    int unwritable = check_output("--trace", cli.trace_path);
    if (unwritable == 0) unwritable = check_output("--svg", cli.svg_path);
    if (unwritable == 0) unwritable = check_output("--summary", cli.summary_path);
    if (unwritable == 0) unwritable = check_output("--html", cli.html_path);
    if (unwritable != 0) return unwritable;
    if (cli.request.strategy == SIM_STRATEGY_EXHAUSTIVE) return sim_cli_exhaustive(&cli);
    return run_campaigns(&cli);
}
