// device.cc — rumor::Device: the public wrapper around a kernels Backend.
#include "rumor/device.h"

#include "kernels/backend.h"

namespace rumor {

Device::Device(const std::string& name, int threads) : backend_(make_backend(name, threads)) {}
Device::~Device() = default;
Device::Device(Device&&) noexcept = default;
Device& Device::operator=(Device&&) noexcept = default;

std::string Device::name() const { return backend_->name(); }
bool Device::host_memory() const { return backend_->host_accessible(); }
void Device::synchronize() { backend_->synchronize(); }

}  // namespace rumor
