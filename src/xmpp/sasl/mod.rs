//! SASL: mechanism choice and SCRAM-SHA-1/256/512 done right. (in progress)
