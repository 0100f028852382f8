#!/usr/bin/env bash
# usage: scripts/demo.sh [MODE]
# Boots the built test kernel under one IOMMU mode (default: vtd-strict)
# with the edu suite only, and shows what happened: the IOMMU the kernel
# found, the device's DMA path, the faults the IOMMU raised for DMA to
# unmapped addresses, and the test results.
. "$(dirname "$0")/lib.sh"
[ $# -le 1 ] || { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }
mode=${1:-vtd-strict}
rc=0
"$TOP/scripts/run.sh" -c kunit -m "$mode" -f 'dma_map_edu' || rc=1
log=$BUILD/results/kunit/$mode.log
echo
echo "--- from the guest's console ($log):"
grep -aE 'DMAR: (IOMMU enabled|Intel)|AMD-Vi: |virtio_iommu|iommu: Default domain|Adding to iommu group|edu DMA path|DMAR: \[DMA|fault addr|# Subtest|^ *(ok|not ok) [0-9]+ ' "$log" |
	sed -E 's/^\[ *[0-9.]+\] //' | grep -v '^ *ok [0-9]* [a-z_]*$' | head -n 60
exit $rc
