// raw_header.h — test helper: build header frames field by field, including malformed ones
// (missing, duplicated or mistyped fields), with the same keys as net/message.cc.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "net/message.h"

namespace rumor::testing {

using RawValue = std::variant<std::uint64_t, std::int64_t, double, std::string>;
struct RawField {
  std::string key;
  RawValue value;
};

// The fields encode_header() writes for `h`, in its order.
inline std::vector<RawField> header_fields(const MessageHeader& h) {
  std::vector<RawField> f = {
      {"v", std::uint64_t{h.version}},
      {"t", std::uint64_t{static_cast<std::uint8_t>(h.type)}},
      {"run", h.run_id},
      {"from", std::uint64_t{h.sender}},
      {"inc", h.incarnation},
      {"seq", h.sequence},
      {"step", h.step},
      {"fp", h.fingerprint},
      {"dt", std::uint64_t{static_cast<std::uint8_t>(h.dtype)}},
      {"n", h.count},
      {"sum", h.checksum},
  };
  if (h.weight) f.push_back({"w", *h.weight});
  if (h.load) f.push_back({"load", *h.load});
  if (h.reply_to) f.push_back({"re", *h.reply_to});
  return f;
}

inline void set_field(std::vector<RawField>& fields, const std::string& key, RawValue value) {
  for (RawField& f : fields) {
    if (f.key == key) {
      f.value = std::move(value);
      return;
    }
  }
  fields.push_back({key, std::move(value)});
}

inline void remove_field(std::vector<RawField>& fields, const std::string& key) {
  std::erase_if(fields, [&](const RawField& f) { return f.key == key; });
}

inline std::vector<std::byte> pack_fields(const std::vector<RawField>& fields) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(static_cast<std::uint32_t>(fields.size()));
  for (const RawField& f : fields) {
    packer.pack(f.key);
    std::visit([&](const auto& v) { packer.pack(v); }, f.value);
  }
  const auto* begin = reinterpret_cast<const std::byte*>(buffer.data());
  return {begin, begin + buffer.size()};
}

}  // namespace rumor::testing
