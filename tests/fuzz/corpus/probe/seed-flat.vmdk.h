# Disk DescriptorFile
version=1
CID=4e801685
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW 2048 FLAT "seed-flat-flat.vmdk" 0

# The Disk Data Base
#DDB

ddb.virtualHWVersion = "4"
ddb.geometry.cylinders = "2"
ddb.geometry.heads = "16"
ddb.geometry.sectors = "63"
ddb.adapterType = "ide"
ddb.toolsVersion = "2147483647"
