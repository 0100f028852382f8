# The interface to the patch queue: 'make help' lists the targets.
SHELL := /bin/bash
S := scripts

.PHONY: help deps tree export build demo run bench nvme rxe debug regress test lint docs check-series mbox \
	clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 22
	@echo "  variables: FORCE=1 (tree), MODE=a,b FILTER=glob SHIFT=n (run; MODE, SHIFT: nvme; MODE: rxe)"
	@echo "             BUDGET=seconds (check-series: build rows until then)"

deps: ## install the packages the build and the tests need (root, apt)
	@$(S)/deps.sh

tree: deps ## build/linux = base tree + git am of patches/ (FORCE=1 resets it)
	@$(S)/tree.sh $(if $(FORCE),--force)

export: ## write the work tree's commits back to patches/
	@$(S)/export.sh

build: tree ## build the test kernel (configs/kunit.config) under build/out/
	@$(S)/build.sh kunit

demo: build ## boot it under VT-d and show edu DMA through the IOMMU (main job)
	@$(S)/demo.sh

run: ## boot the last build, no rebuild: MODE=vtd-strict FILTER='dma_map_edu*'
	@$(S)/run.sh -c kunit $(if $(MODE),-m $(MODE)) $(if $(FILTER),-f '$(FILTER)') \
		$(if $(SHIFT),-s $(SHIFT))

bench: build ## the DMA map and NVMe benchmarks per IOMMU mode: tables of ratios (no test)
	@$(S)/bench.sh $(if $(MODE),-m $(MODE))

nvme: build ## fio and an ext4 round trip on an NVMe disk in every IOMMU mode: MODE=
	@$(S)/nvme.sh $(if $(MODE),-m $(MODE)) $(if $(SHIFT),-s $(SHIFT))

rxe: build ## libibverbs and on-demand paging on soft-RoCE (rxe) in QEMU: MODE=
	@$(S)/rxe.sh $(if $(MODE),-m $(MODE))

debug: tree ## build the debug kernel (configs/debug.config) and boot it in its modes
	@$(S)/build.sh debug && $(S)/run.sh -c debug

regress: tree ## the kernel's own tests on the base tree and on the series, compared
	@$(S)/regress.sh

lint: ## checkpatch, sparse, W=1 and kernel-doc against the base
	@$(S)/lint.sh

docs: tree ## htmldocs of the books the series touches (core-api, mm), base vs series
	@$(S)/docs.sh

check-series: tree ## every patch in order: git am, checkpatch, builds, new warnings (BUDGET=s)
	@$(S)/check-series.sh $(if $(BUDGET),-b $(BUDGET))

mbox: tree ## the series as one mbox for git send-email / git am: build/series.mbox
	@$(S)/mbox.sh

test: build ## every test and lint, in every IOMMU mode (README's test command)
	@$(S)/test.sh

clean: ## remove build outputs and results, keep the work tree
	rm -rf build/out build/results

distclean: ## remove everything under build/, the work tree included
	rm -rf build
