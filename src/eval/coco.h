// COCO caption files: the annotation file (`annotations`: image_id + caption, optional
// `images`: id + file_name) and a results file (a list of image_id + caption). Image ids
// may be integers or strings; they are kept as their decimal/string form.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu::eval {

struct CocoAnnotations {
  std::string path;  // for messages
  std::map<std::string, std::vector<std::string>> captions;  // image id -> references, file order
  std::map<std::string, std::string> file_names;             // image id -> file_name (if listed)
  std::vector<std::string> image_ids;  // images in the order of `images` (else of annotations)
};

struct CaptionResult {
  std::string image_id;
  std::string caption;
};

// An image id as a string key; throws kCorrupt (naming `what`) if neither int nor string.
std::string image_id_key(const Json& id, const std::string& what);

CocoAnnotations parse_coco_annotations(const Json& json, const std::string& path);
CocoAnnotations read_coco_annotations(const std::string& path);

// Validates a results list against the annotations: not empty, every entry has an
// image_id and a string caption, no image twice, no image unknown to the annotations.
std::vector<CaptionResult> parse_coco_results(const Json& json, const std::string& path,
                                              const CocoAnnotations& annotations);
std::vector<CaptionResult> read_coco_results(const std::string& path,
                                             const CocoAnnotations& annotations);

// The results as COCO JSON (a list of {"image_id", "caption"}); integer-looking ids are
// written as integers, like COCO does.
Json results_to_json(const std::vector<CaptionResult>& results);

}  // namespace kantu::eval
