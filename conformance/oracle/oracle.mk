# conformance/oracle: the second, independent oracle (conformance/oracle/README.md).
#   make test-oracle2   the checker fails on each hand-made broken history (and passes the
#                       clean ones); then both oracles judge a sample of campaigns of every
#                       registered implementation (150 POS + 50 PCT seeds + every
#                       scenario) and must agree on every run
# The sample: every implementation shows there every kind of violation it shows
# in twice as many seeds (300 + 100 ran until 2026-12: the same kinds per
# implementation, agreeing, at twice the CPU).
# Under the coverage and sanitizer builds (make ci-gates) two fifths of the seeds
# and no scenario runs (340 instrumented starts; test-sim runs every scenario
# there): the sample runs the --history code instrumented, which every seed
# runs alike; the agreement itself is judged on the full sample by make test.
ifeq ($(VARIANT),)
ORACLE2_SAMPLE ?= --seeds 1..150 --pct-seeds 1..50
else
ORACLE2_SAMPLE ?= --seeds 1..60 --pct-seeds 1..20 --scenarios no
endif

.PHONY: test-oracle2
test-oracle2: $(LEASESIM) ## the second oracle (Python, from --history) must agree with the simulator's on every sampled run
	LEASESIM=$(LEASESIM) $(PYTHON) -m pytest conformance/oracle -p no:cacheprovider -q
	$(PYTHON) conformance/oracle/compare_oracles.py $(LEASESIM) $(ORACLE2_SAMPLE) --out $(O)/oracle2

TEST_TARGETS += test-oracle2
