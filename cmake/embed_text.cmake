# Writes file IN as a C++ raw string literal to OUT (used to compile data files into the binary).
file(READ ${IN} content)
file(WRITE ${OUT} "R\"ignite_embed(${content})ignite_embed\"")
