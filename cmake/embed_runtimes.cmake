# Concatenates the runtime descriptors (DIR/*.json) into one JSON array, written to OUT as a C++
# raw string literal.
file(GLOB files ${DIR}/*.json)
list(SORT files)
set(content "[")
set(sep "")
foreach(f ${files})
  file(READ ${f} one)
  string(APPEND content "${sep}${one}")
  set(sep ",")
endforeach()
string(APPEND content "]")
file(WRITE ${OUT} "R\"ignite_embed(${content})ignite_embed\"")
