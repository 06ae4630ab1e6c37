// The one precompiled header every libtorch step library reuses (see cmake/QbuildModules.cmake).
#pragma once
#include <ATen/ATen.h>
