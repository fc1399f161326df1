/* matter.c - the nine matters of Civil Code art. 278 and their threshold classes. */
#include <string.h>

#include "core/matter.h"

static const struct {
    st_class cls;
    const char *title;
    const char *title_zh;
} matters[ST_MATTER_MAX + 1] = {
    [1] = {ST_CLASS_ORDINARY, "make or amend the rules of procedure", "制定和修改业主大会议事规则"},
    [2] = {ST_CLASS_ORDINARY, "make or amend the management statute", "制定和修改管理规约"},
    [3] = {ST_CLASS_ORDINARY, "elect or replace the owners' committee",
           "选举业主委员会或者更换业主委员会成员"},
    [4] = {ST_CLASS_ORDINARY, "hire or dismiss the property service company",
           "选聘和解聘物业服务企业或者其他管理人"},
    [5] = {ST_CLASS_ORDINARY, "use the maintenance fund", "使用建筑物及其附属设施的维修资金"},
    [6] = {ST_CLASS_SPECIAL, "raise the maintenance fund", "筹集建筑物及其附属设施的维修资金"},
    [7] = {ST_CLASS_SPECIAL, "rebuild or reconstruct buildings", "改建、重建建筑物及其附属设施"},
    [8] = {ST_CLASS_SPECIAL, "change the use of common parts or run a business on them",
           "改变共有部分的用途或者利用共有部分从事经营活动"},
    [9] = {ST_CLASS_ORDINARY, "other major matters of common ownership",
           "有关共有和共同管理权利的其他重大事项"},
};

bool st_matter_valid(int matter) {
    return matter >= ST_MATTER_MIN && matter <= ST_MATTER_MAX;
}

st_class st_matter_class(int matter) {
    return st_matter_valid(matter) ? matters[matter].cls : ST_CLASS_ORDINARY;
}

const char *st_matter_title(int matter) {
    return st_matter_valid(matter) ? matters[matter].title : "unknown matter";
}

const char *st_matter_title_zh(int matter) {
    return st_matter_valid(matter) ? matters[matter].title_zh : "unknown matter";
}

const char *st_class_name(st_class c) {
    return c == ST_CLASS_SPECIAL ? "special" : "ordinary";
}

bool st_class_parse(const char *s, st_class *out) {
    if (s == NULL) {
        return false;
    }
    if (strcmp(s, "ordinary") == 0) {
        *out = ST_CLASS_ORDINARY;
        return true;
    }
    if (strcmp(s, "special") == 0) {
        *out = ST_CLASS_SPECIAL;
        return true;
    }
    return false;
}
