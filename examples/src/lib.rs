//! Example driver programs: wordcount, pi, sort, join, pagerank.
