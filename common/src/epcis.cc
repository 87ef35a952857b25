#include "trace/common/epcis.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <initializer_list>
#include <span>
#include <string>
#include <unordered_map>

#include "trace/common/time.h"

namespace trace::epcis {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using Words = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------
// JSON paths and errors

bool IsPlainName(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

// "$.a" for plain names, "$['ex:b']" for the rest (JSONPath bracket notation).
std::string Field(std::string_view path, std::string_view name) {
  std::string out(path);
  if (IsPlainName(name)) {
    out += '.';
    out += name;
    return out;
  }
  out += "['";
  for (char c : name) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += "']";
  return out;
}

std::string Index(std::string_view path, std::size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

Status Bad(std::string_view path, std::string_view why) {
  std::string m(path);
  m += ": ";
  m += why;
  return InvalidArgument(std::move(m));
}

#define TRACE_EPCIS_RETURN_IF_ERROR(expr) \
  do {                                    \
    Status status_ = (expr);              \
    if (!status_.ok()) return status_;    \
  } while (false)

// ---------------------------------------------------------------------------------
// Formats and simple types

// JSON Schema "format": "uri": an RFC 3986 URI, which has a scheme.
bool IsUri(std::string_view s) { return boost::urls::parse_uri(s).has_value(); }

bool Contains(Words words, std::string_view s) { return std::find(words.begin(), words.end(), s) != words.end(); }

Status CheckUri(const value& v, std::string_view path) {
  if (!v.is_string()) return Bad(path, "not a URI (expected a string)");
  if (!IsUri(v.get_string())) return Bad(path, "not a URI");
  return OkStatus();
}

Status CheckTime(const value& v, std::string_view path) {
  if (!v.is_string()) return Bad(path, "not a date-time (expected a string)");
  auto parsed = ParseRfc3339(v.get_string());
  if (!parsed) return Bad(path, parsed.error().message());
  return OkStatus();
}

Status CheckNumber(const value& v, std::string_view path) {
  if (!v.is_number()) return Bad(path, "not a number");
  return OkStatus();
}

Status CheckString(const value& v, std::string_view path) {
  if (!v.is_string()) return Bad(path, "not a string");
  return OkStatus();
}

Status CheckBoolean(const value& v, std::string_view path) {
  if (!v.is_bool()) return Bad(path, "not a boolean");
  return OkStatus();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$"
bool IsTimeZoneOffset(std::string_view s) {
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
  if (s.substr(1) == "14:00") return true;
  if (!IsDigit(s[1]) || !IsDigit(s[2]) || !IsDigit(s[4]) || !IsDigit(s[5])) return false;
  int hours = (s[1] - '0') * 10 + (s[2] - '0');
  return hours <= 13 && s[4] <= '5';
}

// "uom" of a quantity element: "^[A-Z0-9]{2,3}$" (UN/CEFACT Rec 20 codes).
bool IsQuantityUom(std::string_view s) {
  if (s.size() < 2 || s.size() > 3) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || IsDigit(c); });
}

// "^[A-Fa-f0-9]+$"
bool IsHexBinary(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// "^\d+(\.\d+)*$"
bool IsVersion(std::string_view s) {
  bool need_digit = true;
  for (char c : s) {
    if (IsDigit(c)) {
      need_digit = false;
    } else if (c == '.' && !need_digit) {
      need_digit = true;
    } else {
      return false;
    }
  }
  return !s.empty() && !need_digit;
}

// ---------------------------------------------------------------------------------
// Vocabularies (the schema's enumerations)

constexpr std::string_view kCbvNamespaces[] = {"urn:epcglobal:cbv", "http://ns.gs1.org/cbv/",
                                               "https://ns.gs1.org/cbv/"};
constexpr std::string_view kGs1WebVocNamespaces[] = {"http://gs1.org/voc/", "https://gs1.org/voc/",
                                                     "http://www.gs1.org/voc/", "https://www.gs1.org/voc/"};

constexpr std::string_view kActions[] = {"OBSERVE", "ADD", "DELETE"};

constexpr std::string_view kBizSteps[] = {"accepting",
                                          "arriving",
                                          "assembling",
                                          "collecting",
                                          "commissioning",
                                          "consigning",
                                          "creating_class_instance",
                                          "cycle_counting",
                                          "decommissioning",
                                          "departing",
                                          "destroying",
                                          "disassembling",
                                          "dispensing",
                                          "encoding",
                                          "entering_exiting",
                                          "holding",
                                          "inspecting",
                                          "installing",
                                          "killing",
                                          "loading",
                                          "other",
                                          "packing",
                                          "picking",
                                          "receiving",
                                          "removing",
                                          "repackaging",
                                          "repairing",
                                          "replacing",
                                          "reserving",
                                          "retail_selling",
                                          "shipping",
                                          "staging_outbound",
                                          "stock_taking",
                                          "stocking",
                                          "storing",
                                          "transporting",
                                          "unloading",
                                          "unpacking",
                                          "void_shipping",
                                          "sensor_reporting",
                                          "sampling"};

constexpr std::string_view kDispositions[] = {"active",
                                              "container_closed",
                                              "damaged",
                                              "destroyed",
                                              "dispensed",
                                              "disposed",
                                              "encoded",
                                              "expired",
                                              "in_progress",
                                              "in_transit",
                                              "inactive",
                                              "no_pedigree_match",
                                              "non_sellable_other",
                                              "partially_dispensed",
                                              "recalled",
                                              "reserved",
                                              "retail_sold",
                                              "returned",
                                              "sellable_accessible",
                                              "sellable_not_accessible",
                                              "stolen",
                                              "unknown",
                                              "available",
                                              "completeness_verified",
                                              "completeness_inferred",
                                              "conformant",
                                              "container_open",
                                              "mismatch_instance",
                                              "mismatch_class",
                                              "mismatch_quantity",
                                              "needs_replacement",
                                              "non_conformant",
                                              "unavailable"};

constexpr std::string_view kBizTransactionTypes[] = {"bol",     "cert",    "desadv",    "inv",    "pedigree",
                                                     "po",      "poc",     "prodorder", "recadv", "rma",
                                                     "testprd", "testres", "upevt"};

constexpr std::string_view kSourceDestTypes[] = {"owning_party", "possessing_party", "location"};

constexpr std::string_view kErrorReasons[] = {"did_not_occur", "incorrect_data"};

constexpr std::string_view kMeasurementTypes[] = {"AbsoluteHumidity",
                                                  "AbsorbedDose",
                                                  "AbsorbedDoseRate",
                                                  "Acceleration",
                                                  "Radioactivity",
                                                  "Altitude",
                                                  "AmountOfSubstance",
                                                  "AmountOfSubstancePerUnitVolume",
                                                  "Angle",
                                                  "AngularAcceleration",
                                                  "AngularMomentum",
                                                  "AngularVelocity",
                                                  "Area",
                                                  "Capacitance",
                                                  "Conductance",
                                                  "Conductivity",
                                                  "Count",
                                                  "Density",
                                                  "Dimensionless",
                                                  "DoseEquivalent",
                                                  "DoseEquivalentRate",
                                                  "DynamicViscosity",
                                                  "ElectricCharge",
                                                  "ElectricCurrent",
                                                  "ElectricCurrentDensity",
                                                  "ElectricFieldStrength",
                                                  "Energy",
                                                  "Exposure",
                                                  "Force",
                                                  "Frequency",
                                                  "Illuminance",
                                                  "Inductance",
                                                  "Irradiance",
                                                  "KinematicViscosity",
                                                  "Length",
                                                  "LinearMomentum",
                                                  "Luminance",
                                                  "LuminousFlux",
                                                  "LuminousIntensity",
                                                  "MagneticFlux",
                                                  "MagneticFluxDensity",
                                                  "MagneticVectorPotential",
                                                  "Mass",
                                                  "MassConcentration",
                                                  "MassFlowRate",
                                                  "MassPerAreaTime",
                                                  "MemoryCapacity",
                                                  "MolalityOfSolute",
                                                  "MolarEnergy",
                                                  "MolarMass",
                                                  "MolarVolume",
                                                  "Power",
                                                  "Pressure",
                                                  "RadiantFlux",
                                                  "RadiantIntensity",
                                                  "RelativeHumidity",
                                                  "Resistance",
                                                  "Resistivity",
                                                  "SolidAngle",
                                                  "SpecificVolume",
                                                  "Speed",
                                                  "SurfaceDensity",
                                                  "SurfaceTension",
                                                  "Temperature",
                                                  "Time",
                                                  "Torque",
                                                  "Voltage",
                                                  "Volume",
                                                  "VolumeFlowRate",
                                                  "VolumeFraction",
                                                  "VolumetricFlux",
                                                  "Wavenumber"};

constexpr std::string_view kSensorAlertTypes[] = {"ALARM_CONDITION", "ERROR_CONDITION"};

constexpr std::string_view kComponents[] = {"x",
                                            "y",
                                            "z",
                                            "axial_distance",
                                            "azimuth",
                                            "height",
                                            "spherical_radius",
                                            "polar_angle",
                                            "elevation_angle",
                                            "easting",
                                            "northing",
                                            "latitude",
                                            "longitude",
                                            "altitude"};

// A value from `words`, or a URI outside the `reserved` namespaces (the schema's
// "vocab-other-uri" / "vocab-nonGS1WebVoc-uri" alternatives).
Status CheckVocabulary(const value& v, std::string_view path, Words words, Words reserved, std::string_view what) {
  if (!v.is_string()) return Bad(path, std::string("not a ") + std::string(what) + " (expected a string)");
  std::string_view s = v.get_string();
  if (Contains(words, s)) return OkStatus();
  bool in_reserved =
      std::any_of(reserved.begin(), reserved.end(), [&](std::string_view p) { return s.starts_with(p); });
  if (IsUri(s) && !in_reserved) return OkStatus();
  if (in_reserved) {
    return Bad(path, std::string("a URI in the standard's own namespace is not allowed for ") + std::string(what) +
                         "; use the bare word");
  }
  return Bad(path, std::string("not a ") + std::string(what) + " of the standard vocabulary and not a URI");
}

Status CheckBizStep(const value& v, std::string_view path) {
  return CheckVocabulary(v, path, kBizSteps, kCbvNamespaces, "CBV business step");
}

Status CheckDisposition(const value& v, std::string_view path) {
  return CheckVocabulary(v, path, kDispositions, kCbvNamespaces, "CBV disposition");
}

// ---------------------------------------------------------------------------------
// Structures

// Member names of an object that the schema restricts by "propertyNames": a listed
// name, or a URI (user extension).
bool IsAllowedName(std::string_view name, Words listed) { return Contains(listed, name) || IsUri(name); }

Status CheckRequired(const object& o, std::string_view path, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (!o.contains(name)) return Bad(Field(path, name), "required member missing");
  }
  return OkStatus();
}

// Checks "uniqueItems" once every item has passed its own check.
Status CheckUnique(const array& a, std::string_view path) {
  bool all_strings = std::all_of(a.begin(), a.end(), [](const value& v) { return v.is_string(); });
  if (all_strings) {
    std::unordered_map<std::string_view, std::size_t> seen;
    seen.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto [it, inserted] = seen.emplace(std::string_view(a[i].get_string()), i);
      if (!inserted) return Bad(Index(path, i), "duplicate of item " + std::to_string(it->second));
    }
    return OkStatus();
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (a[i] == a[j]) return Bad(Index(path, i), "duplicate of item " + std::to_string(j));
    }
  }
  return OkStatus();
}

struct ArrayRules {
  std::size_t min_items = 0;
  bool unique = false;
};

template <typename ItemCheck>
Status CheckArray(const value& v, std::string_view path, ArrayRules rules, ItemCheck&& item) {
  if (!v.is_array()) return Bad(path, "not an array");
  const array& a = v.get_array();
  if (a.size() < rules.min_items) {
    return Bad(path, "needs at least " + std::to_string(rules.min_items) + (rules.min_items == 1 ? " item" : " items"));
  }
  for (std::size_t i = 0; i < a.size(); ++i) TRACE_EPCIS_RETURN_IF_ERROR(item(a[i], Index(path, i)));
  if (rules.unique) return CheckUnique(a, path);
  return OkStatus();
}

Status CheckUriList(const value& v, std::string_view path, ArrayRules rules = {}) {
  return CheckArray(v, path, rules, CheckUri);
}

// "@context": a URI, an object, or an array of distinct URIs and objects.
Status CheckContext(const value& v, std::string_view path) {
  if (v.is_object()) return OkStatus();
  if (v.is_string()) return CheckUri(v, path);
  if (!v.is_array()) return Bad(path, "not a JSON-LD context (a URI, an object or an array of them)");
  return CheckArray(v, path, {.unique = true}, [](const value& item, const std::string& p) {
    if (item.is_object()) return OkStatus();
    if (!item.is_string()) return Bad(p, "not a URI or an object");
    return CheckUri(item, p);
  });
}

Status CheckCertificationInfo(const value& v, std::string_view path) {
  if (v.is_array()) return CheckUriList(v, path);
  if (!v.is_string()) return Bad(path, "not a URI or an array of URIs");
  return CheckUri(v, path);
}

constexpr std::string_view kErrorDeclarationMembers[] = {"declarationTime", "reason", "correctiveEventIDs"};

Status CheckErrorDeclaration(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"declarationTime"}));
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() == "declarationTime") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckTime(m.value(), p));
    } else if (m.key() == "reason") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckVocabulary(m.value(), p, kErrorReasons, kCbvNamespaces, "CBV error reason"));
    } else if (m.key() == "correctiveEventIDs") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUriList(m.value(), p));
    } else if (!IsAllowedName(m.key(), kErrorDeclarationMembers)) {
      return Bad(p, "not a member of errorDeclaration, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

Status CheckAction(const value& v, std::string_view path) {
  if (!v.is_string() || !Contains(kActions, v.get_string())) return Bad(path, "not ADD, OBSERVE or DELETE");
  return OkStatus();
}

// {epcClass, quantity?, uom?}, nothing else.
Status CheckQuantityElement(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"epcClass"}));
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() == "epcClass") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(m.value(), p));
    } else if (m.key() == "quantity") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckNumber(m.value(), p));
    } else if (m.key() == "uom") {
      if (!m.value().is_string() || !IsQuantityUom(m.value().get_string())) {
        return Bad(p, "not a unit code (2 or 3 upper-case letters or digits)");
      }
    } else {
      return Bad(p, "not a member of a quantity element (epcClass, quantity, uom)");
    }
  }
  return OkStatus();
}

Status CheckQuantityList(const value& v, std::string_view path) {
  return CheckArray(v, path, {}, CheckQuantityElement);
}

Status CheckPersistentDisposition(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() != "set" && m.key() != "unset") return Bad(p, "not a member of persistentDisposition (set, unset)");
    TRACE_EPCIS_RETURN_IF_ERROR(CheckArray(m.value(), p, {.min_items = 1, .unique = true}, CheckDisposition));
  }
  if (!o.contains("set") && !o.contains("unset")) return Bad(path, "needs set or unset");
  return OkStatus();
}

// readPoint, bizLocation: {id, ...}; other members are not restricted by the schema.
Status CheckLocation(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"id"}));
  return CheckUri(o.at("id"), Field(path, "id"));
}

Status CheckBizTransaction(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"bizTransaction"}));
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() == "type") {
      TRACE_EPCIS_RETURN_IF_ERROR(
          CheckVocabulary(m.value(), p, kBizTransactionTypes, kCbvNamespaces, "CBV business transaction type"));
    } else if (m.key() == "bizTransaction") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(m.value(), p));
    } else {
      return Bad(p, "not a member of a business transaction (type, bizTransaction)");
    }
  }
  return OkStatus();
}

// A sourceList item ({type, source}) or destinationList item ({type, destination}).
Status CheckSourceOrDestination(const value& v, std::string_view path, std::string_view key) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"type", key}));
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() == "type") {
      TRACE_EPCIS_RETURN_IF_ERROR(
          CheckVocabulary(m.value(), p, kSourceDestTypes, kCbvNamespaces, "CBV source/destination type"));
    } else if (m.key() == key) {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(m.value(), p));
    } else {
      return Bad(p, "not a member of a " + std::string(key) + " (type, " + std::string(key) + ")");
    }
  }
  return OkStatus();
}

constexpr std::string_view kSensorMetadataMembers[] = {"time",      "deviceID", "deviceMetadata",       "rawData",
                                                       "startTime", "endTime",  "dataProcessingMethod", "bizRules"};

Status CheckSensorMetadata(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  for (const auto& m : v.get_object()) {
    std::string_view k = m.key();
    std::string p = Field(path, k);
    if (k == "time" || k == "startTime" || k == "endTime") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckTime(m.value(), p));
    } else if (Contains(kSensorMetadataMembers, k)) {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(m.value(), p));
    } else if (!IsUri(k)) {
      return Bad(p, "not a member of sensorMetadata, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

constexpr std::string_view kSensorReportUriMembers[] = {
    "deviceID", "deviceMetadata", "rawData",           "dataProcessingMethod",
    "bizRules", "microorganism",  "chemicalSubstance", "coordinateReferenceSystem",
    "uriValue"};
constexpr std::string_view kSensorReportNumberMembers[] = {"value", "minValue", "maxValue", "meanValue",
                                                           "sDev",  "percRank", "percValue"};

Status CheckSensorReport(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"type"}));
  for (const auto& m : o) {
    std::string_view k = m.key();
    std::string p = Field(path, k);
    const value& x = m.value();
    if (k == "type") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckVocabulary(x, p, kMeasurementTypes, kGs1WebVocNamespaces, "measurement type"));
    } else if (k == "exception") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckVocabulary(x, p, kSensorAlertTypes, kGs1WebVocNamespaces, "sensor alert type"));
    } else if (k == "component") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckVocabulary(x, p, kComponents, kCbvNamespaces, "CBV component"));
    } else if (k == "time") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckTime(x, p));
    } else if (Contains(kSensorReportUriMembers, k)) {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(x, p));
    } else if (Contains(kSensorReportNumberMembers, k)) {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckNumber(x, p));
    } else if (k == "stringValue" || k == "uom") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckString(x, p));
    } else if (k == "booleanValue") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckBoolean(x, p));
    } else if (k == "hexBinaryValue") {
      if (!x.is_string() || !IsHexBinary(x.get_string())) return Bad(p, "not hexadecimal digits");
    } else if (!IsUri(k)) {
      return Bad(p, "not a member of a sensor report, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

Status CheckSensorElement(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"sensorReport"}));
  for (const auto& m : o) {
    std::string p = Field(path, m.key());
    if (m.key() == "sensorMetadata") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckSensorMetadata(m.value(), p));
    } else if (m.key() == "sensorReport") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckArray(m.value(), p, {.min_items = 1}, CheckSensorReport));
    } else if (!IsUri(m.key())) {
      return Bad(p, "not a member of a sensor element, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

// ilmd: an object whose member names are all URIs (prefix:name); values are free.
Status CheckIlmd(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  for (const auto& m : v.get_object()) {
    if (!IsUri(m.key())) return Bad(Field(path, m.key()), "ilmd member names must be URIs (prefix:name)");
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------
// Events

constexpr std::string_view kObjectMembers[] = {
    "action",    "epcList",     "quantityList",       "bizStep",    "disposition",     "persistentDisposition",
    "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
    "ilmd"};
constexpr std::string_view kAggregationMembers[] = {
    "parentID",  "childEPCs",   "childQuantityList",  "action",     "bizStep",         "disposition",
    "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"};
constexpr std::string_view kTransactionMembers[] = {
    "bizTransactionList", "parentID",  "epcList",     "quantityList", "action",          "bizStep",
    "disposition",        "readPoint", "bizLocation", "sourceList",   "destinationList", "sensorElementList"};
constexpr std::string_view kTransformationMembers[] = {"inputEPCList",       "inputQuantityList",     "outputEPCList",
                                                       "outputQuantityList", "transformationID",      "bizStep",
                                                       "disposition",        "persistentDisposition", "readPoint",
                                                       "bizLocation",        "bizTransactionList",    "sourceList",
                                                       "destinationList",    "sensorElementList",     "ilmd"};
// AssociationEvent lists the same members as AggregationEvent.

constexpr std::string_view kEventTypeNames[] = {"ObjectEvent", "AggregationEvent", "TransactionEvent",
                                                "TransformationEvent", "AssociationEvent"};

Words MembersOf(EventType type) {
  switch (type) {
    case EventType::kObject:
      return kObjectMembers;
    case EventType::kAggregation:
    case EventType::kAssociation:
      return kAggregationMembers;
    case EventType::kTransaction:
      return kTransactionMembers;
    case EventType::kTransformation:
      return kTransformationMembers;
  }
  return {};
}

// The members of the schema's "Event" definition (every event type has them).
// Returns true when `name` is one of them, with `*status` the result of its check.
bool CheckCommonMember(std::string_view name, const value& v, const std::string& p, Status* status) {
  if (name == "@context") {
    *status = CheckContext(v, p);
  } else if (name == "type") {
    *status = OkStatus();  // checked before the members
  } else if (name == "eventTime" || name == "recordTime") {
    *status = CheckTime(v, p);
  } else if (name == "eventTimeZoneOffset") {
    *status = v.is_string() && IsTimeZoneOffset(v.get_string())
                  ? OkStatus()
                  : Bad(p, "not a time zone offset (+hh:mm or -hh:mm, at most 14:00)");
  } else if (name == "eventID") {
    *status = CheckUri(v, p);
  } else if (name == "certificationInfo") {
    *status = CheckCertificationInfo(v, p);
  } else if (name == "errorDeclaration") {
    *status = CheckErrorDeclaration(v, p);
  } else {
    return false;
  }
  return true;
}

// One member listed for `type` (`name` is in MembersOf(type)).
Status CheckTypedMember(EventType type, std::string_view name, const value& v, const std::string& p) {
  if (name == "action") return CheckAction(v, p);
  if (name == "bizStep") return CheckBizStep(v, p);
  if (name == "disposition") return CheckDisposition(v, p);
  if (name == "persistentDisposition") return CheckPersistentDisposition(v, p);
  if (name == "readPoint" || name == "bizLocation") return CheckLocation(v, p);
  if (name == "parentID" || name == "transformationID") return CheckUri(v, p);
  if (name == "ilmd") return CheckIlmd(v, p);
  // ObjectEvent's epcList and TransformationEvent's EPC lists are the schema's
  // "epcList" (uniqueItems); TransactionEvent's epcList and childEPCs are plain arrays.
  if (name == "epcList") return CheckUriList(v, p, {.unique = type == EventType::kObject});
  if (name == "inputEPCList" || name == "outputEPCList") return CheckUriList(v, p, {.unique = true});
  if (name == "childEPCs") return CheckUriList(v, p);
  if (name == "quantityList" || name == "childQuantityList" || name == "inputQuantityList" ||
      name == "outputQuantityList") {
    return CheckQuantityList(v, p);
  }
  if (name == "bizTransactionList") {
    return CheckArray(v, p, {.min_items = type == EventType::kTransaction ? 1u : 0u}, CheckBizTransaction);
  }
  if (name == "sourceList") {
    return CheckArray(v, p, {},
                      [](const value& x, const std::string& q) { return CheckSourceOrDestination(x, q, "source"); });
  }
  if (name == "destinationList") {
    return CheckArray(
        v, p, {}, [](const value& x, const std::string& q) { return CheckSourceOrDestination(x, q, "destination"); });
  }
  if (name == "sensorElementList") return CheckArray(v, p, {}, CheckSensorElement);
  return Internal(p + ": no rule for member " + std::string(name));
}

// True when `o[name]` exists and is a non-empty array (members are checked already).
bool HasItems(const object& o, std::string_view name) {
  const value* v = o.if_contains(name);
  return v != nullptr && v->is_array() && !v->get_array().empty();
}

bool ActionIs(const object& o, std::string_view action) {
  const value* v = o.if_contains("action");
  return v != nullptr && v->is_string() && v->get_string() == action;
}

// The schema's anyOf rules over several members.
Status CheckCrossMemberRules(EventType type, const object& o, std::string_view path) {
  switch (type) {
    case EventType::kObject:
      if (!o.contains("epcList") && !HasItems(o, "quantityList") &&
          !(HasItems(o, "sensorElementList") && o.contains("readPoint"))) {
        return Bad(path,
                   "an ObjectEvent needs epcList, a non-empty quantityList, or a non-empty "
                   "sensorElementList with a readPoint");
      }
      if (o.contains("ilmd") && !ActionIs(o, "ADD")) return Bad(Field(path, "ilmd"), "allowed only with action ADD");
      return OkStatus();
    case EventType::kAggregation:
    case EventType::kAssociation:
      if (!HasItems(o, "childEPCs") && !HasItems(o, "childQuantityList") && !ActionIs(o, "DELETE")) {
        return Bad(path, "an " + std::string(EventTypeName(type)) +
                             " needs a non-empty childEPCs or childQuantityList unless action is DELETE");
      }
      return OkStatus();
    case EventType::kTransaction:
      if (!o.contains("epcList") && !HasItems(o, "quantityList") && !ActionIs(o, "DELETE")) {
        return Bad(path, "a TransactionEvent needs epcList or a non-empty quantityList unless action is DELETE");
      }
      return OkStatus();
    case EventType::kTransformation: {
      bool inputs = HasItems(o, "inputEPCList") || HasItems(o, "inputQuantityList");
      bool outputs = HasItems(o, "outputEPCList") || HasItems(o, "outputQuantityList");
      if (inputs && outputs) return OkStatus();
      if ((inputs || outputs) && o.contains("transformationID")) return OkStatus();
      return Bad(path, "a TransformationEvent needs inputs and outputs, or a transformationID and inputs or outputs");
    }
  }
  return OkStatus();
}

Status ValidateEventObject(const object& o, std::string_view path, EventRules rules) {
  const value* type_value = o.if_contains("type");
  if (type_value == nullptr) return Bad(Field(path, "type"), "required member missing");
  if (!type_value->is_string()) return Bad(Field(path, "type"), "not a string");
  std::optional<EventType> type = EventTypeFromName(type_value->get_string());
  if (!type && !(rules.allow_extension_types && IsUri(type_value->get_string()))) {
    return Bad(Field(path, "type"), rules.allow_extension_types
                                        ? "not an EPCIS event type (ObjectEvent, AggregationEvent, TransactionEvent, "
                                          "TransformationEvent, AssociationEvent) nor a URI"
                                        : "not an EPCIS event type (ObjectEvent, AggregationEvent, TransactionEvent, "
                                          "TransformationEvent, AssociationEvent)");
  }
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"eventTime", "eventTimeZoneOffset"}));
  if (!type) {
    // The schema's "Extended-Event": only the common members are defined.
    for (const auto& m : o) {
      Status status;
      if (CheckCommonMember(m.key(), m.value(), Field(path, m.key()), &status) && !status.ok()) return status;
    }
    return OkStatus();
  }
  switch (*type) {
    case EventType::kObject:
    case EventType::kAggregation:
      TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"action"}));
      break;
    case EventType::kTransaction:
      TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"bizTransactionList", "action"}));
      break;
    case EventType::kAssociation:
      TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"action", "parentID"}));
      break;
    case EventType::kTransformation:
      break;
  }
  Words members = MembersOf(*type);
  for (const auto& m : o) {
    std::string_view name = m.key();
    std::string p = Field(path, name);
    Status status;
    if (CheckCommonMember(name, m.value(), p, &status)) {
      TRACE_EPCIS_RETURN_IF_ERROR(status);
    } else if (Contains(members, name)) {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckTypedMember(*type, name, m.value(), p));
    } else if (!IsUri(name)) {
      return Bad(p, "not a member of " + std::string(EventTypeName(*type)) +
                        ", and not an extension (a URI name such as prefix:name)");
    }
  }
  return CheckCrossMemberRules(*type, o, path);
}

// ---------------------------------------------------------------------------------
// Documents

Status CheckAttribute(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"id"}));
  TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(o.at("id"), Field(path, "id")));
  if (const value* a = o.if_contains("attribute");
      a != nullptr && !a->is_number() && !a->is_string() && !a->is_object()) {
    return Bad(Field(path, "attribute"), "not a number, a string or an object");
  }
  return OkStatus();
}

Status CheckVocabularyElement(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"id"}));
  TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(o.at("id"), Field(path, "id")));
  if (const value* a = o.if_contains("attributes")) {
    TRACE_EPCIS_RETURN_IF_ERROR(CheckArray(*a, Field(path, "attributes"), {}, CheckAttribute));
  }
  if (const value* c = o.if_contains("children"))
    TRACE_EPCIS_RETURN_IF_ERROR(CheckUriList(*c, Field(path, "children")));
  return OkStatus();
}

Status CheckMasterDataVocabulary(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  const object& o = v.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(o, path, {"type"}));
  TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(o.at("type"), Field(path, "type")));
  if (const value* l = o.if_contains("vocabularyElementList")) {
    TRACE_EPCIS_RETURN_IF_ERROR(CheckArray(*l, Field(path, "vocabularyElementList"), {}, CheckVocabularyElement));
  }
  return OkStatus();
}

Status CheckEpcisHeader(const value& v, std::string_view path) {
  if (!v.is_object()) return Bad(path, "not an object");
  for (const auto& m : v.get_object()) {
    std::string p = Field(path, m.key());
    if (m.key() == "epcisMasterData") {
      if (!m.value().is_object()) return Bad(p, "not an object");
      if (const value* l = m.value().get_object().if_contains("vocabularyList")) {
        TRACE_EPCIS_RETURN_IF_ERROR(CheckArray(*l, Field(p, "vocabularyList"), {}, CheckMasterDataVocabulary));
      }
    } else if (!IsUri(m.key())) {
      return Bad(p, "not a member of epcisHeader, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

// A JSON-LD blank node identifier, "_:" and a name.
bool IsBlankNode(std::string_view s) { return s.size() > 2 && s.starts_with("_:"); }

constexpr std::string_view kDocumentMembers[] = {
    "@context",           "id",     "type",     "schemaVersion", "creationDate",
    "instanceIdentifier", "sender", "receiver", "epcisHeader",   "epcisBody"};

}  // namespace

std::optional<EventType> EventTypeFromName(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kEventTypeNames); ++i) {
    if (kEventTypeNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::string_view EventTypeName(EventType type) { return kEventTypeNames[static_cast<std::size_t>(type)]; }

Status ValidateEvent(const value& event, std::string_view path, EventRules rules) {
  if (!event.is_object()) return Bad(path, "not an object");
  return ValidateEventObject(event.get_object(), path, rules);
}

Status ValidateEpcisDocument(const value& doc, EventRules rules) {
  constexpr std::string_view kPath = "$";
  if (!doc.is_object()) return Bad(kPath, "not an object");
  const object& o = doc.get_object();
  TRACE_EPCIS_RETURN_IF_ERROR(
      CheckRequired(o, kPath, {"@context", "type", "schemaVersion", "creationDate", "epcisBody"}));
  for (const auto& m : o) {
    std::string_view k = m.key();
    std::string p = Field(kPath, k);
    const value& x = m.value();
    if (k == "@context") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckContext(x, p));
    } else if (k == "id") {
      if (!(x.is_string() && IsBlankNode(x.get_string()))) TRACE_EPCIS_RETURN_IF_ERROR(CheckUri(x, p));
    } else if (k == "type") {
      if (!x.is_string() || x.get_string() != "EPCISDocument") return Bad(p, "not \"EPCISDocument\"");
    } else if (k == "schemaVersion") {
      if (!x.is_string() || !IsVersion(x.get_string())) return Bad(p, "not a version string such as \"2.0\"");
    } else if (k == "creationDate") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckTime(x, p));
    } else if (k == "instanceIdentifier" || k == "sender" || k == "receiver") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckString(x, p));
    } else if (k == "epcisHeader") {
      TRACE_EPCIS_RETURN_IF_ERROR(CheckEpcisHeader(x, p));
    } else if (k == "epcisBody") {
      if (!x.is_object()) return Bad(p, "not an object");
      TRACE_EPCIS_RETURN_IF_ERROR(CheckRequired(x.get_object(), p, {"eventList"}));
      TRACE_EPCIS_RETURN_IF_ERROR(
          CheckArray(x.get_object().at("eventList"), Field(p, "eventList"), {},
                     [&](const value& event, const std::string& q) { return ValidateEvent(event, q, rules); }));
    } else if (!IsAllowedName(k, kDocumentMembers)) {
      return Bad(p, "not a member of EPCISDocument, and not an extension (a URI name such as prefix:name)");
    }
  }
  return OkStatus();
}

Status ForEachEvent(const value& doc, const std::function<Status(std::size_t, const object&)>& fn, EventRules rules) {
  TRACE_EPCIS_RETURN_IF_ERROR(ValidateEpcisDocument(doc, rules));
  const array& events = doc.at("epcisBody").at("eventList").get_array();
  for (std::size_t i = 0; i < events.size(); ++i) {
    Status status = fn(i, events[i].get_object());
    if (!status.ok()) return status.WithContext(Index("$.epcisBody.eventList", i));
  }
  return OkStatus();
}

#undef TRACE_EPCIS_RETURN_IF_ERROR

}  // namespace trace::epcis
