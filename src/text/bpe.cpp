#include "text/bpe.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::text {

bool BpeModel::add_token(std::string bytes, int32_t id) {
  if (id < 0 || bytes.empty()) return false;
  if (static_cast<size_t>(id) >= id_to_bytes_.size()) id_to_bytes_.resize(static_cast<size_t>(id) + 1);
  if (!id_to_bytes_[static_cast<size_t>(id)].empty()) return false;
  if (bytes.size() == 1) {
    const auto b = static_cast<unsigned char>(bytes[0]);
    byte_ids_[b] = id;
    byte_known_[b] = true;
  }
  id_to_bytes_[static_cast<size_t>(id)] = bytes;
  return bytes_to_id_.emplace(std::move(bytes), id).second;
}

bool BpeModel::add_merge(std::string_view left, std::string_view right) {
  const int32_t l = find(left), r = find(right);
  if (l < 0 || r < 0) return false;
  std::string joined;
  joined.reserve(left.size() + right.size());
  joined.append(left).append(right);
  const int32_t merged = find(joined);
  if (merged < 0) return false;
  merges_.emplace(pair_key(l, r), Merge{static_cast<int32_t>(merges_.size()), merged});
  return true;
}

int32_t BpeModel::find(std::string_view bytes) const {
  const auto it = bytes_to_id_.find(bytes);
  return it == bytes_to_id_.end() ? -1 : it->second;
}

std::string_view BpeModel::token_bytes(int32_t id) const {
  if (id < 0 || id >= id_limit()) return {};
  return id_to_bytes_[static_cast<size_t>(id)];
}

bool BpeModel::covers_all_bytes() const {
  return std::all_of(std::begin(byte_known_), std::end(byte_known_), [](bool b) { return b; });
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode_word(std::string_view word, Workspace& ws, std::vector<int32_t>& out) const {
  KANTU_CHECK(!word.empty());
  auto& sym = ws.symbols;
  sym.clear();
  const int32_t n = static_cast<int32_t>(word.size());
  for (int32_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(word[static_cast<size_t>(i)]);
    KANTU_CHECK(byte_known_[b], "byte-level vocabulary lacks a byte token");
    sym.push_back({byte_ids_[b], i - 1, i + 1 < n ? i + 1 : -1});
  }
  merge_symbols(ws, out);
}

void BpeModel::encode_symbols(std::span<const int32_t> symbols, Workspace& ws,
                              std::vector<int32_t>& out) const {
  KANTU_CHECK(!symbols.empty());
  auto& sym = ws.symbols;
  sym.clear();
  const auto n = static_cast<int32_t>(symbols.size());
  for (int32_t i = 0; i < n; ++i) sym.push_back({symbols[static_cast<size_t>(i)], i - 1, i + 1 < n ? i + 1 : -1});
  merge_symbols(ws, out);
}

void BpeModel::merge_symbols(Workspace& ws, std::vector<int32_t>& out) const {
  auto& sym = ws.symbols;
  auto& heap = ws.heap;
  heap.clear();
  const auto n = static_cast<int32_t>(sym.size());
  // Min-heap on (rank, position): the lowest rank first, the leftmost on ties.
  const auto later = [](const Workspace::Candidate& a, const Workspace::Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  const auto push_pair = [&](int32_t left) {
    const int32_t right = sym[static_cast<size_t>(left)].next;
    if (right < 0) return;
    const int32_t lid = sym[static_cast<size_t>(left)].id, rid = sym[static_cast<size_t>(right)].id;
    if (const Merge* m = find_merge(lid, rid)) {
      heap.push_back({m->rank, left, lid, rid});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Workspace::Candidate c = heap.back();
    heap.pop_back();
    auto& left = sym[static_cast<size_t>(c.left)];
    // Stale entry: one side was merged away or changed since it was pushed.
    if (left.id != c.left_id || left.next < 0) continue;
    auto& right = sym[static_cast<size_t>(left.next)];
    if (right.id != c.right_id) continue;
    const Merge* m = find_merge(c.left_id, c.right_id);
    left.id = m->merged;
    right.id = -1;  // removed
    left.next = right.next;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = c.left;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(c.left);
  }
  for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) out.push_back(sym[static_cast<size_t>(i)].id);
}

}  // namespace kantu::text
