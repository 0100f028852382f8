/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The iommufd selftests of linux-source 6.12.117 were updated past the uapi
 * of that tree: they use names that 6.12's include/uapi/linux/iommufd.h and
 * drivers/iommu/iommufd/iommufd_test.h do not have.  scripts/regress.sh
 * builds them, for the base tree and the series alike, with this header
 * forced in front, which gives those names the meaning they have upstream.
 * The tests that need the newer kernel (PASID, input data types) fail on
 * both trees; the comparison counts them as failing on the base.
 */
#define IOMMU_HW_INFO_TYPE_DEFAULT	0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	(1 << 0)
/* upstream: union { __u32 in_data_type; __u32 out_data_type; } */
#define in_data_type			out_data_type
#define MOCK_FLAGS_DEVICE_PASID		0
#define MOCK_PASID_WIDTH		20
