# conformance/hostile: the hostile corpus (fixtures/hostile/) through lease
# inspect, lease run and a program, in whichever build BIN names (the
# sanitizer gate runs it over build/san/bin).
.PHONY: test-hostile
test-hostile: $(BIN)/lease $(PROGRAMS_BINARIES) ## the hostile corpus through inspect, run and a program
	@mkdir -p $(or $(CI_REPORT_DIR),$(O)/reports)
	BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider conformance/hostile \
		--junitxml=$(or $(CI_REPORT_DIR),$(O)/reports)/pytest-hostile.xml

TEST_TARGETS += test-hostile
