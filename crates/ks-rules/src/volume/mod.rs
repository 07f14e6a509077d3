//! See the rule files in this module.
