/**
 * Domain layer on top of nlp.js's sentiment lexicons (see docs/decisions/033-*.md).
 *
 * nlp.js ships general-purpose lexicons (SentiCon for en/es/de, AFINN for pt, Pattern for fr)
 * that miss how shoppers write about orders ("never arrived", "no llegó", "kam kaputt an")
 * and, for French, have no negation words at all. The first entries of each language were written
 * from general knowledge of post-purchase reviews before the labelled sets in
 * tests/fixtures/sentiment were measured. Entries under "Added after the first measurement (v1)"
 * came from the main set's errors, those under "Added after the held-out set was measured (v2)"
 * from the first held-out set's; the second held-out set (holdout2-*.json) was never used, and
 * is the honest measure (docs/feedback-sentiment.md).
 *
 * Scale: roughly -4 (worst) .. +4 (best), like VADER's; nlp.js values are rescaled onto it.
 * Keys are plain text in the language; they are normalised (lowercase, accents stripped) and
 * stemmed with the language's nlp.js stemmer when the analyser for that language is built, so
 * one entry covers inflections ("disappointed" / "disappointing", "llegó" / "llegaron").
 * Multi-word keys are phrases matched on consecutive stems (longest match wins) and may contain
 * a negation word: a phrase match replaces the generic negation rule for those words.
 */

export type SupportedLanguage = "en" | "es" | "pt" | "fr" | "de";

export type LanguageLexicon = {
  /** Words that invert (and dampen) the next few scored words of the same clause. */
  negations: readonly string[];
  /** Words that strengthen the next scored word. */
  intensifiers: readonly string[];
  /** "but"-like words: in a sentence, what follows weighs more than what precedes. */
  contrasts: readonly string[];
  /** Frequent function words that are distinctive enough to vote for the language. */
  markers: readonly string[];
  /** Domain words and phrases with a score. */
  terms: Readonly<Record<string, number>>;
};

/** Emoji and emoticons, language independent. */
export const SYMBOL_SCORES: Readonly<Record<string, number>> = {
  "😀": 2, "😃": 2, "😄": 2, "😁": 2, "😊": 2, "🙂": 1, "😍": 3, "🥰": 3, "😘": 2, "🤩": 3,
  "👍": 2, "👌": 2, "👏": 2, "🙌": 2, "💯": 2, "❤": 3, "❤️": 3, "💕": 3, "💖": 3, "⭐": 1, "🌟": 1,
  "🎉": 2, "🔥": 1.5, "😞": -2, "😔": -2, "😢": -2, "😭": -2.5, "😡": -3, "😠": -3, "🤬": -3.5,
  "👎": -2.5, "💩": -3, "🙁": -1.5, "☹": -1.5, "☹️": -1.5, "😒": -1.5, "😤": -2, "🤮": -3,
  "😩": -2, "😫": -2, "🤦": -1.5, "😕": -1, ":)": 1.5, ":-)": 1.5, ":D": 2, ":(": -1.5, ":-(": -1.5,
};

const en: LanguageLexicon = {
  negations: ["not", "no", "never", "neither", "nor", "without", "nothing", "none", "hardly", "barely"],
  intensifiers: ["very", "really", "so", "extremely", "super", "absolutely", "totally", "incredibly", "truly", "completely", "most"],
  contrasts: ["but", "however", "although", "though", "yet"],
  markers: ["the", "and", "is", "was", "it", "this", "my", "to", "of", "with", "not", "very", "for", "i", "you", "they", "have", "has", "but", "would", "will", "great", "good", "love", "arrived", "order", "product", "item", "delivery", "quality", "after", "again", "what", "which", "did", "does", "just", "still", "really", "too"],
  terms: {
    // praise
    love: 3, loved: 3, "love it": 3.2, amazing: 3, awesome: 3, excellent: 3, perfect: 3, great: 3, fantastic: 3.2,
    wonderful: 3, superb: 3, outstanding: 3, brilliant: 3, good: 2, nice: 2, lovely: 2.5, beautiful: 2.5, gorgeous: 3,
    happy: 2, pleased: 2, satisfied: 2, delighted: 3, impressed: 2.5, recommend: 2, "highly recommend": 3,
    "five stars": 3, "5 stars": 3, thanks: 1.5, "thank you": 1.5, comfortable: 2, "well made": 2.5,
    "good quality": 2.5, "great quality": 3, "high quality": 2.5, sturdy: 2, "worth it": 2, "worth the money": 2.5,
    "value for money": 1.5, "great value": 3, bargain: 2, helpful: 2, friendly: 2, "quick response": 2,
    "fast shipping": 2.5, "fast delivery": 2.5, "quick delivery": 2.5, "arrived quickly": 2.5, "arrived early": 2.5,
    "ahead of schedule": 2, "on time": 1.2, "as described": 1.5, "as expected": 1, "exactly as": 1.5,
    "well packaged": 1.5, "buy again": 2, "order again": 2, "will be back": 2, "fits perfectly": 3, flawless: 3,
    // mild / neutral-ish
    ok: 0.4, okay: 0.4, fine: 0.6, decent: 1, alright: 0.6, average: -0.3, "so so": -0.5, meh: -1,
    // complaints
    bad: -2.5, poor: -2, terrible: -3, awful: -3, horrible: -3, worst: -3.5, disappointed: -2.5, disappointing: -2.5,
    disappointment: -2.5, useless: -3, junk: -3, garbage: -3, rubbish: -3, scam: -3.5, "rip off": -3, mediocre: -1.5,
    unfortunately: -1.5, sadly: -1.5, annoyed: -2, annoying: -2, frustrated: -2.5, frustrating: -2.5, angry: -3,
    furious: -3.5, unacceptable: -3, ridiculous: -2.5, "poor quality": -2.5, "cheap quality": -2.5, "cheaply made": -2.5,
    flimsy: -2, broken: -2.5, broke: -2, damaged: -2.5, defective: -3, faulty: -3, cracked: -2, ripped: -2, torn: -2,
    scratched: -1.5, stained: -1.5, leaking: -2, leaked: -2, shrunk: -2, faded: -1.5, itchy: -1.5, uncomfortable: -2,
    missing: -2, lost: -2, "wrong item": -2.5, "wrong size": -2, "wrong color": -2, "too small": -1.5, "too big": -1.5,
    late: -1.5, delayed: -1.5, delay: -1.5, "still waiting": -2.5, "never arrived": -3, "never received": -3,
    "never came": -3, "not arrived": -2.5, "not received": -2.5, "not receive": -2.5, "not arrive": -2.5,
    "not delivered": -2.5, "never delivered": -3, "not work": -2.5, "not working": -2.5, "stopped working": -3,
    "not as described": -2.5, "not as pictured": -2.5, "not worth": -2.5, "waste of money": -3, "waste of time": -2.5,
    "fell apart": -3, refund: -1.5, "sent it back": -1.5, "sent back": -1.5, "returned it": -1.5, "no response": -2,
    "no reply": -2, "no answer": -2, "never responded": -2.5, "never answered": -2.5, ignored: -2, rude: -2.5,
    unhelpful: -2.5, overpriced: -2, "charged twice": -3, "never again": -3, "not recommend": -2.5, "avoid": -2.5,
    "not happy": -2.5, "not good": -2, "not great": -1.5, "not bad": 1, "no problem": 1, "no problems": 1,
    "no issues": 1, "no complaints": 1.5, "without problems": 1, "without any problems": 1,
    "like it": 1.5, "liked it": 2, "not like": -2, "not liked": -2,
    // Added after the held-out set was measured (v2): broad review vocabulary by category (looks,
    // taste, feel, reliability; defects, skin reactions, spoilage, hassle), see docs/feedback-sentiment.md.
    stunning: 3, incredible: 2.5, delicious: 3, tasty: 2.5, fresh: 1.5, soft: 1.5, cosy: 2, cozy: 2, solid: 1.5,
    "crystal clear": 2.5, "top notch": 3, "first class": 2.5, "thumbs up": 2.5, "not fault": 2.5, impeccable: 3,
    "easy to use": 2, "easy to assemble": 2, reliable: 2, "must have": 2.5, exceeded: 2.5, "exceeded my expectations": 3,
    "10/10": 3, rash: -2.5, allergic: -2.5, irritation: -2, itching: -2, burned: -2, melted: -2.5, stale: -2.5,
    expired: -2.5, mouldy: -3, moldy: -3, rotten: -3, spoiled: -2.5, "smells bad": -2.5, stinks: -2.5, nightmare: -3,
    hassle: -2, mess: -2, dirty: -2, "not fit": -2, died: -2.5, dead: -2, overheats: -2.5, noisy: -1.5, unusable: -3,
    misleading: -2.5, fake: -3, counterfeit: -3, poorly: -2, badly: -2, dented: -1.5, crushed: -2, soaked: -2,
    "no refund": -3, chasing: -1.5, junky: -3,
    // Added after the first measurement (v1), see docs/feedback-sentiment.md.
    adore: 3, thrilled: 3, "spot on": 2.5, "better than expected": 2.5, "better than i expected": 2.5,
    "not what i ordered": -2.5, "not what i expected": -2, "coming apart": -2.5, "falling apart": -2.5,
    snapped: -2, worse: -2.5, cheap: -1, "looks cheap": -2, "not buy": -2.5, "never buy": -3, "not order": -2,
  },
};

const es: LanguageLexicon = {
  negations: ["no", "nunca", "jamas", "ni", "tampoco", "sin", "nada", "ningun", "ninguno", "ninguna", "nadie"],
  intensifiers: ["muy", "super", "realmente", "totalmente", "bastante", "sumamente", "increiblemente", "mas", "tan"],
  contrasts: ["pero", "aunque", "embargo", "sino"],
  markers: ["el", "la", "los", "las", "y", "es", "muy", "pero", "que", "con", "por", "para", "una", "un", "mi", "del", "lo", "esta", "está", "fue", "llegó", "llego", "todo", "bien", "más", "también", "producto", "pedido", "envío", "calidad", "ya", "hasta", "nada", "gracias", "porque", "como", "tiene", "mucho", "no", "aquí", "le", "se", "me", "he", "ha", "han", "ni", "sin", "su", "pésimo", "bueno", "buena"],
  terms: {
    encanta: 3, encantó: 3, encantado: 3, encantada: 3, excelente: 3, perfecto: 3, perfecta: 3, genial: 3,
    maravilloso: 3, fantástico: 3, increíble: 2.5, estupendo: 3, bueno: 2, buena: 2, bonito: 2, bonita: 2, precioso: 2.5,
    preciosa: 2.5, "muy bien": 2.5, bien: 1.2, contento: 2, contenta: 2, satisfecho: 2, satisfecha: 2, feliz: 2,
    recomiendo: 2, recomendable: 2, "lo recomiendo": 2.5, gracias: 1.5, cómodo: 2, cómoda: 2, "buena calidad": 2.5,
    "gran calidad": 3, "calidad precio": 1, "vale la pena": 2, "rápido": 1.5, "rápida": 1.5, rapidez: 2, "envío rápido": 2.5,
    "llegó rápido": 2.5, "llegó antes": 2, "a tiempo": 1.2, "en perfecto estado": 2.5, "bien empaquetado": 1.5,
    "como se describe": 1.5, "tal como": 1, "volveré a comprar": 2.5, "volvería a comprar": 2.5, amable: 2, amables: 2,
    atento: 2, atentos: 2, "sin problemas": 1, "ningún problema": 1, "de diez": 2.5, "10/10": 3,
    // mild / neutral-ish
    normal: 0, correcto: 0.6, aceptable: 0.6, regular: -0.8, "ni fu ni fa": -0.5, "más o menos": -0.5,
    // complaints
    malo: -2.5, mala: -2.5, mal: -2, pésimo: -3.5, pésima: -3.5, horrible: -3, terrible: -3, fatal: -3, peor: -3,
    decepcionado: -2.5, decepcionada: -2.5, decepción: -2.5, decepcionante: -2.5, desastre: -3, vergüenza: -3,
    estafa: -3.5, timo: -3.5, basura: -3, inútil: -3, lamentablemente: -1.5, desgraciadamente: -1.5,
    "por desgracia": -1.5, roto: -2.5, rota: -2.5, rompió: -2.5, dañado: -2.5, dañada: -2.5, defectuoso: -3,
    defectuosa: -3, "mala calidad": -2.5, "baja calidad": -2.5, rayado: -1.5, manchado: -1.5, descosido: -2,
    incómodo: -2, incómoda: -2, falta: -1.5, faltaba: -2, faltan: -2, perdido: -2, equivocado: -2, "talla equivocada": -2.5,
    "muy pequeño": -1.5, "muy grande": -1.5, retraso: -2, "tarde": -1, "con retraso": -2, "todavía espero": -2.5,
    "sigo esperando": -2.5, "no llegó": -3, "nunca llegó": -3, "no ha llegado": -3, "no recibí": -3,
    "nunca recibí": -3, "no funciona": -2.5, "dejó de funcionar": -3, "no es como": -2, "no vale": -2.5,
    "tirar el dinero": -3, "dinero tirado": -3, reembolso: -1.5, devolución: -1.5, "lo devolví": -1.5, devolver: -1.2,
    "sin respuesta": -2, "no responden": -2.5, "no contestan": -2.5, "nadie responde": -2.5, maleducado: -2.5,
    grosero: -2.5, caro: -1.2, "nunca más": -3, "no lo recomiendo": -3, "no recomiendo": -3, "no estoy contento": -2.5,
    "no me gusta": -2, "no me gustó": -2, "me gusta": 2, "me gustó": 2, "nada mal": 1, "no está mal": 1, cobraron: -1,
    // Added after the first measurement (v1), see docs/feedback-sentiment.md.
    mejor: 1.5, "mejor de lo que esperaba": 2.5, maravilla: 3, "de maravilla": 3, "da gusto": 2, ilusión: 1.5,
    "no es lo que pedí": -2.5, "no es lo que esperaba": -2, encogió: -2, despegó: -1.5, reclamar: -1.5,
    "no volveré": -3, "no vuelvo": -3, "parece barato": -2, barato: -0.5, "se parece en nada": -2,
    // Added after the held-out set was measured (v2): broad review vocabulary by category (looks,
    // taste, feel, reliability; defects, skin reactions, spoilage, hassle), see docs/feedback-sentiment.md.
    espectacular: 3, impecable: 3, fresco: 1.5, delicioso: 3, rico: 2, suave: 1.5, resistente: 1.5, "de primera": 2.5,
    "sin pegas": 2.5, "nada que objetar": 2.5, "de lujo": 3, "una pasada": 3, fácil: 1.5, "fácil de montar": 2, fiable: 2,
    "superó mis expectativas": 3, alergia: -2.5, irritación: -2, picor: -2, derretido: -2.5, derretidos: -2.5,
    caducado: -2.5, podrido: -3, "huele mal": -2.5, apesta: -2.5, pesadilla: -3, lío: -1.5, sucio: -2, "no me queda": -2,
    ruidoso: -1.5, inservible: -3, engañoso: -2.5, falso: -2.5, falsificación: -3, abollado: -1.5, aplastado: -2,
    mojado: -1.5, porquería: -3, chapuza: -3, cutre: -2.5,
  },
};

const pt: LanguageLexicon = {
  negations: ["nao", "nunca", "jamais", "nem", "tampouco", "nenhum", "nenhuma", "sem", "nada", "ninguem"],
  intensifiers: ["muito", "muita", "super", "realmente", "totalmente", "bastante", "extremamente", "tao", "mais"],
  contrasts: ["mas", "porem", "contudo", "entretanto", "embora", "todavia"],
  markers: ["o", "os", "as", "não", "nao", "muito", "muita", "com", "uma", "um", "é", "foi", "está", "chegou", "mas", "do", "da", "dos", "das", "no", "na", "em", "meu", "minha", "para", "pra", "que", "bem", "produto", "pedido", "entrega", "qualidade", "também", "já", "ainda", "você", "vocês", "obrigado", "obrigada", "ótimo", "ótima", "péssimo", "nenhum", "até", "ele", "ela", "isso", "são", "eu", "aqui", "vou", "tem", "ficou"],
  terms: {
    adorei: 3, amei: 3, adoro: 3, excelente: 3, perfeito: 3, perfeita: 3, ótimo: 3, ótima: 3, maravilhoso: 3,
    maravilhosa: 3, fantástico: 3, incrível: 2.5, lindo: 2.5, linda: 2.5, bonito: 2, bonita: 2, bom: 2, boa: 2,
    "muito bom": 2.5, "muito boa": 2.5, "muito bem": 2.5, bem: 1, satisfeito: 2, satisfeita: 2, feliz: 2, contente: 2,
    recomendo: 2, "super recomendo": 3, obrigado: 1.5, obrigada: 1.5, confortável: 2, "boa qualidade": 2.5,
    "ótima qualidade": 3, "vale a pena": 2, "custo benefício": 1, rápido: 1.5, rápida: 1.5, rapidez: 2,
    "entrega rápida": 2.5, "chegou rápido": 2.5, "chegou antes": 2, "no prazo": 1.2, "dentro do prazo": 1.2,
    "bem embalado": 1.5, "como descrito": 1.5, "conforme descrito": 1.5, "comprarei novamente": 2.5,
    "voltarei a comprar": 2.5, "compraria de novo": 2.5, atencioso: 2, atenciosa: 2, atenciosos: 2, simpático: 2,
    "sem problemas": 1, "nenhum problema": 1, nota: 0, "nota 10": 3, top: 2,
    // mild / neutral-ish
    normal: 0, ok: 0.4, razoável: -0.3, regular: -0.8, "mais ou menos": -0.5, aceitável: 0.5,
    // complaints
    ruim: -2.5, péssimo: -3.5, péssima: -3.5, horrível: -3, terrível: -3, pior: -3, mau: -2, má: -2,
    decepcionado: -2.5, decepcionada: -2.5, decepção: -2.5, decepcionante: -2.5, desastre: -3, vergonha: -3,
    golpe: -3.5, enganação: -3.5, lixo: -3, inútil: -3, infelizmente: -1.5, quebrado: -2.5, quebrada: -2.5,
    quebrou: -2.5, danificado: -2.5, danificada: -2.5, defeito: -2.5, defeituoso: -3, "com defeito": -3,
    "má qualidade": -2.5, "qualidade ruim": -2.5, "baixa qualidade": -2.5, riscado: -1.5, manchado: -1.5, rasgado: -2,
    rasgou: -2, descosturado: -2, desconfortável: -2, faltando: -2, faltou: -2, extraviado: -2.5, perdido: -2,
    errado: -2, "tamanho errado": -2.5, "muito pequeno": -1.5, "muito grande": -1.5, atraso: -2, atrasado: -2,
    atrasou: -2, demorou: -1.5, demora: -1.5, "ainda espero": -2.5, "ainda aguardando": -2.5, "continuo esperando": -2.5,
    "não chegou": -3, "nunca chegou": -3, "não recebi": -3, "nunca recebi": -3, "não funciona": -2.5,
    "parou de funcionar": -3, "não é como": -2, "não vale": -2.5, "dinheiro jogado fora": -3, reembolso: -1.5,
    devolução: -1.5, devolver: -1.2, "sem resposta": -2, "não respondem": -2.5, "ninguém responde": -2.5,
    grosseiro: -2.5, mal: -1.5, "mal educado": -2.5, caro: -1.2, "nunca mais": -3, "não recomendo": -3,
    "não gostei": -2.5, gostei: 2, "gostei muito": 3, "nada mal": 1, "não é ruim": 1,
    // Added after the first measurement (v1), see docs/feedback-sentiment.md.
    melhor: 1.5, "melhor do que esperava": 2.5, "melhor do que eu esperava": 2.5, maravilha: 3, "dá gosto": 2,
    certinho: 2, "nota dez": 3, "frete grátis": 1, "não é o que pedi": -2.5, "não é o que eu pedi": -2.5,
    encolheu: -2, fraco: -2, descolou: -1.5, reclamar: -1.5, "não compro mais": -3, "coisa barata": -2,
    "nada a ver": -1.5,
    // Added after the held-out set was measured (v2): broad review vocabulary by category (looks,
    // taste, feel, reliability; defects, skin reactions, spoilage, hassle), see docs/feedback-sentiment.md.
    espetacular: 3, impecável: 3, fresco: 1.5, fresquinho: 2, delicioso: 3, gostoso: 2.5, macio: 1.5, resistente: 1.5,
    "de primeira": 2.5, "nada a reclamar": 2.5, "de luxo": 2.5, fácil: 1.5, "fácil de montar": 2, confiável: 2,
    "superou minhas expectativas": 3, "superou as expectativas": 3, cristalino: 2, alergia: -2.5, irritação: -2,
    coceira: -2, derretido: -2.5, derretida: -2.5, vencido: -2.5, "fora da validade": -2.5, estragado: -3, podre: -3,
    "cheiro ruim": -2.5, fedido: -2.5, pesadelo: -3, bagunça: -1.5, sujo: -2, "não serviu": -2, barulhento: -1.5,
    inutilizável: -3, enganoso: -2.5, falso: -2.5, falsificado: -3, amassado: -1.5, molhado: -1.5, porcaria: -3,
  },
};

const fr: LanguageLexicon = {
  negations: ["ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "sans", "ni", "personne"],
  intensifiers: ["tres", "vraiment", "super", "tellement", "trop", "extremement", "totalement", "hyper", "si", "plus"],
  contrasts: ["mais", "cependant", "pourtant", "toutefois", "neanmoins"],
  markers: ["le", "la", "les", "et", "est", "très", "pas", "je", "mais", "un", "une", "du", "des", "au", "aux", "il", "elle", "ce", "c", "j", "n", "qu", "avec", "pour", "mon", "ma", "mes", "été", "reçu", "arrivé", "produit", "commande", "livraison", "qualité", "bien", "vraiment", "aucun", "rien", "jamais", "encore", "merci", "vous", "nous", "sont", "était", "colis", "trop", "déçu", "déçue"],
  terms: {
    adore: 3, "j'adore": 3, excellent: 3, excellente: 3, parfait: 3, parfaite: 3, génial: 3, géniale: 3, super: 2.5,
    magnifique: 3, merveilleux: 3, formidable: 3, top: 2, bon: 2, bonne: 2, "très bien": 2.5, bien: 1.2, beau: 2,
    belle: 2, joli: 2, jolie: 2, ravi: 3, ravie: 3, content: 2, contente: 2, satisfait: 2, satisfaite: 2, heureux: 2,
    recommande: 2, "je recommande": 2.5, merci: 1.5, confortable: 2, "bonne qualité": 2.5, "qualité au rendez-vous": 2.5,
    "vaut le coup": 2, "rapport qualité prix": 1, rapide: 1.5, rapidement: 1.5, rapidité: 2, "livraison rapide": 2.5,
    "arrivé rapidement": 2.5, "en avance": 2, "dans les délais": 1.2, "à temps": 1.2, "bien emballé": 1.5,
    "conforme à la description": 1.5, conforme: 1.5, "je rachèterai": 2.5, "je recommanderai": 2.5, aimable: 2,
    sympathique: 2, réactif: 2, réactifs: 2, "sans problème": 1, "aucun problème": 1, "rien à redire": 2.5, nickel: 3,
    // mild / neutral-ish
    correct: 0.6, correcte: 0.6, moyen: -0.8, moyenne: -0.8, "sans plus": -0.8, passable: -0.5, "bof": -1,
    // complaints
    mauvais: -2.5, mauvaise: -2.5, mal: -1.5, nul: -3, nulle: -3, horrible: -3, terrible: -2.5, catastrophique: -3.5,
    catastrophe: -3, pire: -3, déçu: -2.5, déçue: -2.5, décevant: -2.5, décevante: -2.5, déception: -2.5,
    honte: -3, arnaque: -3.5, escroquerie: -3.5, inutile: -2.5, "malheureusement": -1.5, cassé: -2.5, cassée: -2.5,
    abîmé: -2.5, abîmée: -2.5, endommagé: -2.5, défectueux: -3, défectueuse: -3, "mauvaise qualité": -2.5,
    "qualité médiocre": -2.5, médiocre: -2, rayé: -1.5, taché: -1.5, déchiré: -2, inconfortable: -2, manquant: -2,
    manque: -1.5, perdu: -2, "mauvaise taille": -2.5, erreur: -1.5, "trop petit": -1.5, "trop grand": -1.5, retard: -2,
    "en retard": -2, "toujours pas": -2.5, "j'attends toujours": -2.5, "jamais arrivé": -3, "jamais reçu": -3,
    "pas reçu": -3, "pas arrivé": -3, "pas livré": -3, "ne fonctionne pas": -2.5, "ne marche pas": -2.5,
    "ne fonctionne plus": -3, "ne marche plus": -3, "pas conforme": -2.5, "ne vaut pas": -2.5, "argent jeté": -3,
    remboursement: -1.5, retour: -1, renvoyé: -1.5, "aucune réponse": -2, "pas de réponse": -2, "sans réponse": -2,
    "ne répond pas": -2.5, "ne répondent pas": -2.5, impoli: -2.5, désagréable: -2.5, cher: -1.2, "plus jamais": -3,
    "je ne recommande pas": -3, "ne recommande pas": -3, "pas content": -2.5, "pas satisfait": -2.5, "pas terrible": -2,
    "pas mal": 1, "pas de problème": 1,
    // Added after the first measurement (v1), see docs/feedback-sentiment.md.
    "aux anges": 3, lamentable: -3, piètre: -2.5, éviter: -2.5, "à éviter": -3, rétréci: -2, décollé: -1.5,
    lâché: -2, merveille: 3, "à merveille": 3, bravo: 2, "mieux que prévu": 2.5, "rien à voir": -2,
    "pas ce que j'ai commandé": -2.5, "bon marché": -1,
    // Added after the held-out set was measured (v2): broad review vocabulary by category (looks,
    // taste, feel, reliability; defects, skin reactions, spoilage, hassle), see docs/feedback-sentiment.md.
    superbe: 3, incroyable: 2.5, délicieux: 3, doux: 1.5, solide: 1.5, "de qualité": 2, "grande qualité": 2.5,
    impeccable: 3, "rien à dire": 2.5, "au top": 2.5, facile: 1.5, "facile à monter": 2, fiable: 2,
    "dépassé mes attentes": 3, limpide: 1.5, allergie: -2.5, irritation: -2, rougeurs: -2, démangeaisons: -2,
    fondu: -2, fondus: -2, périmé: -2.5, pourri: -3, "sent mauvais": -2.5, cauchemar: -3, galère: -2, bruyant: -1.5,
    inutilisable: -3, trompeur: -2.5, faux: -2, contrefaçon: -3, cabossé: -1.5, écrasé: -2, mouillé: -1.5, camelote: -3,
  },
};

const de: LanguageLexicon = {
  negations: ["nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts", "ohne", "weder", "keinesfalls", "keineswegs"],
  intensifiers: ["sehr", "wirklich", "total", "super", "echt", "extrem", "absolut", "mega", "besonders", "richtig", "voll", "so", "ziemlich", "hochst"],
  contrasts: ["aber", "jedoch", "allerdings", "trotzdem", "leider"],
  markers: ["der", "die", "das", "und", "ist", "nicht", "sehr", "ich", "war", "aber", "mit", "ein", "eine", "einen", "auf", "für", "zu", "es", "wir", "sie", "mein", "meine", "auch", "noch", "schon", "nach", "hat", "habe", "wurde", "kein", "keine", "leider", "wieder", "gut", "ware", "bestellung", "lieferung", "qualität", "paket", "nur", "immer", "wie", "dass", "bei", "vom", "zum", "toll"],
  terms: {
    liebe: 3, lieben: 3, "ich liebe": 3, ausgezeichnet: 3, hervorragend: 3, perfekt: 3, super: 2.5, toll: 3,
    klasse: 3, spitze: 3, fantastisch: 3, wunderbar: 3, wunderschön: 3, schön: 2, gut: 2, "sehr gut": 2.5,
    prima: 2.5, top: 2.5, zufrieden: 2, "sehr zufrieden": 3, glücklich: 2, begeistert: 3, empfehlen: 2,
    "kann ich empfehlen": 2.5, "nur empfehlen": 2.5, "absolut empfehlenswert": 3, empfehlenswert: 2.5, danke: 1.5,
    bequem: 2, "gute qualität": 2.5, hochwertig: 2.5, "preis leistung": 1, "lohnt sich": 2, schnell: 1.5,
    "schnelle lieferung": 2.5, "schneller versand": 2.5, "schnell geliefert": 2.5, "pünktlich": 1.2,
    "gut verpackt": 1.5, "wie beschrieben": 1.5, "wie abgebildet": 1.5, "gerne wieder": 2.5, "immer wieder": 2,
    freundlich: 2, hilfsbereit: 2, kompetent: 2, "ohne probleme": 1, "problemlos": 1.5, "keine probleme": 1,
    gefällt: 2, "gefällt mir nicht": -2, einwandfrei: 2.5, "alles bestens": 3, bestens: 2.5,
    // mild / neutral-ish
    okay: 0.4, ok: 0.4, "in ordnung": 0.6, durchschnittlich: -0.5, mittelmäßig: -1, "geht so": -0.8, naja: -0.8,
    // complaints
    schlecht: -2.5, "sehr schlecht": -3, mies: -3, furchtbar: -3, schrecklich: -3, katastrophal: -3.5,
    katastrophe: -3, schlimm: -2.5, enttäuscht: -2.5, enttäuschend: -2.5, enttäuschung: -2.5, frechheit: -3,
    betrug: -3.5, abzocke: -3.5, schrott: -3, müll: -3, nutzlos: -3, unbrauchbar: -3, leider: -1.2, kaputt: -2.5,
    beschädigt: -2.5, defekt: -3, "schlechte qualität": -2.5, minderwertig: -2.5, billig: -1.5, zerkratzt: -1.5,
    fleck: -1.5, gerissen: -2, unbequem: -2, fehlt: -2, fehlte: -2, verloren: -2, falsch: -2, "falsche größe": -2.5,
    "zu klein": -1.5, "zu groß": -1.5, verspätung: -2, verspätet: -2, "zu spät": -2, "warte immer noch": -2.5,
    "immer noch nicht": -2.5, "nie angekommen": -3, "nicht angekommen": -3, "nicht erhalten": -3, "nie erhalten": -3,
    "nicht geliefert": -3, "funktioniert nicht": -2.5, "geht nicht": -2, "funktioniert nicht mehr": -3,
    "nicht wie beschrieben": -2.5, "nicht empfehlen": -3, "nicht zu empfehlen": -3, "geld verschwendet": -3,
    rückerstattung: -1.5, "zurückgeschickt": -1.5, retoure: -1.2, "keine antwort": -2, "keine reaktion": -2,
    unfreundlich: -2.5, "unverschämt": -3, teuer: -1.2, "nie wieder": -3, "nicht zufrieden": -2.5,
    "nicht gut": -2, "nicht schlecht": 1, ärgerlich: -2,
    // Added after the first measurement (v1), see docs/feedback-sentiment.md.
    miserabel: -3, unhöflich: -2.5, rausgeschmissen: -2.5, "rausgeschmissenes geld": -3, eingelaufen: -2,
    kaputtgegangen: -2.5, traumhaft: 3, gefreut: 2, spaß: 2, geholfen: 1.5, fehlend: -1.5, fehlenden: -1.5,
    "finger weg": -3, kaufempfehlung: 2.5, beanstanden: -1.5, "besser als erwartet": 2.5, nachhaken: -1,
    // Added after the held-out set was measured (v2): broad review vocabulary by category (looks,
    // taste, feel, reliability; defects, skin reactions, spoilage, hassle), see docs/feedback-sentiment.md.
    umwerfend: 3, unglaublich: 2.5, frisch: 1.5, lecker: 3, weich: 1.5, stabil: 1.5, robust: 1.5, erstklassig: 3,
    "daumen hoch": 2.5, "nichts auszusetzen": 2.5, makellos: 3, zuverlässig: 2, "erwartungen übertroffen": 3,
    glasklar: 2.5, herrlich: 2.5, gemütlich: 2, allergie: -2.5, allergisch: -2.5, ausschlag: -2.5, juckt: -2,
    geschmolzen: -2.5, abgelaufen: -2.5, verdorben: -3, schimmel: -3, schimmelig: -3, stinkt: -2.5, albtraum: -3,
    alptraum: -3, ärger: -2, dreckig: -2, schmutzig: -2, "passt nicht": -2, irreführend: -2.5, fälschung: -3,
    gefälscht: -3, verbeult: -1.5, zerdrückt: -2, nass: -1.5, mist: -2.5,
  },
};

export const LEXICONS: Readonly<Record<SupportedLanguage, LanguageLexicon>> = { en, es, pt, fr, de };
